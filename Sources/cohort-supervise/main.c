// cohort-supervise: the direct parent of every module a worker runs.
//
// usage: cohort-supervise WORKER_PID GRACE_SECONDS DIRECTORY PROGRAM [ARGS...]
//
// Why it exists: a worker rank killed with SIGKILL cannot clean up, and a
// parent-death signal reaches only the direct child, not the module's own
// children (NOTES-MPI). This process carries PR_SET_PDEATHSIG, runs the
// module in a process group of its own, and when the worker dies or asks it
// to stop (SIGTERM/SIGINT), sends SIGTERM to that whole group, then SIGKILL
// after GRACE_SECONDS. When the module ends, leftovers in its group are
// killed too: nothing a module starts outlives it.
//
// It exits with the module's exit status, or dies of the module's signal.
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void die_like(int status) {
    if (WIFEXITED(status)) _exit(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core);
        signal(sig, SIG_DFL);
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, sig);
        sigprocmask(SIG_UNBLOCK, &set, NULL);
        raise(sig);
        _exit(128 + sig);
    }
    _exit(125);
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: cohort-supervise WORKER_PID GRACE_SECONDS DIRECTORY PROGRAM [ARGS...]\n");
        return 125;
    }
    pid_t worker = (pid_t)atol(argv[1]);
    int grace = atoi(argv[2]);
    if (grace < 0) grace = 0;

    sigset_t handled, original;
    sigemptyset(&handled);
    sigaddset(&handled, SIGCHLD);
    sigaddset(&handled, SIGTERM);
    sigaddset(&handled, SIGINT);
    sigaddset(&handled, SIGHUP);
    sigprocmask(SIG_BLOCK, &handled, &original);

    // If the worker dies, we get SIGTERM. If it died before this line, we
    // would wait for a signal that never comes: check the parent.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != worker) return 125;

    if (chdir(argv[3]) != 0) {
        fprintf(stderr, "cohort: cannot enter %s: %s\n", argv[3], strerror(errno));
        return 126;
    }

    pid_t module = fork();
    if (module < 0) {
        fprintf(stderr, "cohort: cannot start the module: %s\n", strerror(errno));
        return 126;
    }
    if (module == 0) {
        setpgid(0, 0);
        sigprocmask(SIG_SETMASK, &original, NULL);
        execv(argv[4], argv + 4);
        fprintf(stderr, "cohort: cannot run %s: %s\n", argv[4], strerror(errno));
        _exit(127);
    }
    setpgid(module, module);  // also here: no race with a signal sent to the group

    int status = 0;
    int stopping = 0;
    struct timespec deadline = {0, 0};
    for (;;) {
        struct timespec wait = {0, 100000000};  // re-check the deadline while stopping
        if (!stopping) wait.tv_sec = 1, wait.tv_nsec = 0;
        if (stopping) {
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            if (now.tv_sec > deadline.tv_sec || (now.tv_sec == deadline.tv_sec && now.tv_nsec >= deadline.tv_nsec)) {
                kill(-module, SIGKILL);
            }
        }
        siginfo_t info;
        int sig = sigtimedwait(&handled, &info, &wait);
        if (sig == SIGCHLD || sig < 0) {
            pid_t done = waitpid(module, &status, WNOHANG);
            if (done == module) break;
            continue;
        }
        // SIGTERM, SIGINT or SIGHUP: the worker stops the module, or died.
        if (!stopping) {
            stopping = 1;
            kill(-module, SIGTERM);
            kill(-module, SIGCONT);
            clock_gettime(CLOCK_MONOTONIC, &deadline);
            deadline.tv_sec += grace;
        }
    }
    kill(-module, SIGKILL);  // whatever the module left running in its group
    die_like(status);
    return 125;
}
