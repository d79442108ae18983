// cohort-supervise: the direct parent of every module a worker runs.
//
// usage: cohort-supervise WORKER_PID GRACE_SECONDS DIRECTORY USAGE_FILE PROGRAM [ARGS...]
//
// PROGRAM is looked up on PATH when it has no slash (exit 127 when not
// found, 126 when it cannot be run, as the shell does).
//
// USAGE_FILE `fd:N` means the inherited descriptor N (a pipe from the
// worker: no file per attempt); the module does not inherit it.
//
// Why it exists: a worker rank killed with SIGKILL cannot clean up, and a
// parent-death signal reaches only the direct child, not the module's own
// children (NOTES-MPI). This process carries PR_SET_PDEATHSIG, runs the
// module in a process group of its own, and when the worker dies or asks it
// to stop (SIGTERM/SIGINT), sends SIGTERM to that whole group and to every
// other descendant, then SIGKILL after GRACE_SECONDS (at once on SIGUSR1).
//
// Nothing a module starts outlives it: this process is a child subreaper,
// so descendants that left the module's group or session (`setsid`, a
// double fork) become its children when their parents end, and when the
// module ends they are killed with what is left of its group.
//
// Memory is measured where it is spent: the module tree's peak, the larger
// of the largest single process's peak RSS (exact, from the kernel, for
// every process reaped) and the highest sum of the tree's RSS sampled five
// times a second. It is written to USAGE_FILE as `peak_rss_kib N`.
//
// It exits with the module's exit status, or dies of the module's signal.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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

// The parent pid in /proc/PID/stat (after the command name, which may hold spaces).
static pid_t parent_of(const char *pid_text) {
    char path[64], line[512];
    snprintf(path, sizeof path, "/proc/%s/stat", pid_text);
    FILE *stat = fopen(path, "r");
    if (!stat) return -1;
    size_t length = fread(line, 1, sizeof line - 1, stat);
    fclose(stat);
    line[length] = 0;
    char *end = strrchr(line, ')');
    int parent = -1;
    if (!end || sscanf(end + 1, " %*c %d", &parent) != 1) return -1;
    return (pid_t)parent;
}

// Calls visit(pid) for each child of process `pid`: from every thread's
// /proc/PID/task/TID/children, or, on kernels without that file, by
// scanning /proc for processes whose parent is `pid`.
static void for_each_child(pid_t pid, void (*visit)(pid_t, void *), void *context) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)pid, (int)pid);
    if (access(path, R_OK) != 0) {
        DIR *processes = opendir("/proc");
        if (!processes) return;
        struct dirent *entry;
        while ((entry = readdir(processes))) {
            if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
            if (parent_of(entry->d_name) == pid) visit((pid_t)atol(entry->d_name), context);
        }
        closedir(processes);
        return;
    }
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *tasks = opendir(path);
    if (!tasks) return;
    struct dirent *task;
    while ((task = readdir(tasks))) {
        if (task->d_name[0] == '.') continue;
        char children_path[128];
        snprintf(children_path, sizeof children_path, "/proc/%d/task/%s/children", (int)pid, task->d_name);
        FILE *children = fopen(children_path, "r");
        if (!children) continue;
        int child;
        while (fscanf(children, "%d", &child) == 1) visit((pid_t)child, context);
        fclose(children);
    }
    closedir(tasks);
}

static void add_tree_rss(pid_t pid, void *total) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/statm", (int)pid);
    FILE *statm = fopen(path, "r");
    if (statm) {
        long size = 0, resident = 0;
        if (fscanf(statm, "%ld %ld", &size, &resident) == 2) *(long *)total += resident;
        fclose(statm);
    }
    for_each_child(pid, add_tree_rss, total);
}

static void signal_child(pid_t pid, void *sig) {
    kill(-pid, *(int *)sig);  // its group, if it leads one (setsid)
    kill(pid, *(int *)sig);
}

static void count_child(pid_t pid, void *counter) {
    (void)pid;
    ++*(int *)counter;
}

// Sends `sig` to the module's group and to every child this process has
// (orphans the kernel handed over); returns how many children are left.
static int signal_everything(pid_t module, int sig) {
    kill(-module, sig);
    for_each_child(getpid(), signal_child, &sig);
    int count = 0;
    for_each_child(getpid(), count_child, &count);
    return count;
}

static double seconds_now(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc < 6) {
        fprintf(stderr, "usage: cohort-supervise WORKER_PID GRACE_SECONDS DIRECTORY USAGE_FILE PROGRAM [ARGS...]\n");
        return 125;
    }
    pid_t worker = (pid_t)atol(argv[1]);
    int grace = atoi(argv[2]);
    if (grace < 0) grace = 0;
    const char *usage_file = argv[4];
    int usage_fd = -1;
    if (strncmp(usage_file, "fd:", 3) == 0) {
        usage_fd = atoi(usage_file + 3);
        fcntl(usage_fd, F_SETFD, FD_CLOEXEC);
    }

    sigset_t handled, original;
    sigemptyset(&handled);
    sigaddset(&handled, SIGCHLD);
    sigaddset(&handled, SIGTERM);
    sigaddset(&handled, SIGINT);
    sigaddset(&handled, SIGHUP);
    sigaddset(&handled, SIGUSR1);  // from the worker: stop everything now, no grace
    sigprocmask(SIG_BLOCK, &handled, &original);

    // If the worker dies, we get SIGTERM. If it died before this line, we
    // would wait for a signal that never comes: check the parent.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != worker) return 125;
    prctl(PR_SET_CHILD_SUBREAPER, 1);

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
        prctl(PR_SET_PDEATHSIG, 0);
        sigprocmask(SIG_SETMASK, &original, NULL);
        // PROGRAM is /bin/sh -c LINE, or a plain run line's own program
        // (found on PATH as the shell would, with the shell's exit codes).
        execvp(argv[5], argv + 5);
        int error = errno;
        if (error == ENOENT && !strchr(argv[5], '/')) {
            fprintf(stderr, "cohort: %s: command not found\n", argv[5]);
        } else {
            fprintf(stderr, "cohort: cannot run %s: %s\n", argv[5], strerror(error));
        }
        _exit(error == ENOENT || error == ENOTDIR ? 127 : 126);
    }
    setpgid(module, module);  // also here: no race with a signal sent to the group

    long page_kib = sysconf(_SC_PAGESIZE) / 1024;
    long peak_sampled_kib = 0;
    double last_sample = 0;
    int status = 0;
    int module_done = 0;
    int stopping = 0;
    struct timespec deadline = {0, 0};
    while (!module_done) {
        struct timespec wait = {0, 100000000};  // re-check the deadline while stopping
        if (!stopping) wait.tv_sec = 0, wait.tv_nsec = 200000000;
        if (stopping) {
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            if (now.tv_sec > deadline.tv_sec || (now.tv_sec == deadline.tv_sec && now.tv_nsec >= deadline.tv_nsec)) {
                signal_everything(module, SIGKILL);
            }
        }
        siginfo_t info;
        int sig = sigtimedwait(&handled, &info, &wait);
        if (sig == SIGCHLD || sig < 0) {
            if (seconds_now() - last_sample >= 0.2) {
                last_sample = seconds_now();
                long pages = 0;
                for_each_child(getpid(), add_tree_rss, &pages);
                if (pages * page_kib > peak_sampled_kib) peak_sampled_kib = pages * page_kib;
            }
            // Reap the module and any orphan handed over to us.
            pid_t done;
            int child_status;
            while ((done = waitpid(-1, &child_status, WNOHANG)) > 0) {
                if (done == module) {
                    status = child_status;
                    module_done = 1;
                }
            }
            continue;
        }
        // SIGTERM, SIGINT or SIGHUP: the worker stops the module, or died.
        // SIGUSR1: the user asked twice; no grace.
        if (!stopping) {
            stopping = 1;
            signal_everything(module, SIGTERM);
            signal_everything(module, SIGCONT);
            clock_gettime(CLOCK_MONOTONIC, &deadline);
            deadline.tv_sec += grace;
        }
        if (sig == SIGUSR1) clock_gettime(CLOCK_MONOTONIC, &deadline);
    }
    // Whatever the module left running, in its group or escaped from it:
    // kill it, reap it, and again for what was handed over meanwhile.
    for (;;) {
        int left = signal_everything(module, SIGKILL);
        pid_t done = waitpid(-1, NULL, left > 0 ? 0 : WNOHANG);
        if (done < 0 && errno == ECHILD) break;
        if (done == 0 && left == 0) break;
    }
    struct rusage usage;
    long peak_kib = peak_sampled_kib;
    if (getrusage(RUSAGE_CHILDREN, &usage) == 0 && usage.ru_maxrss > peak_kib) peak_kib = usage.ru_maxrss;
    if (usage_fd >= 0) {
        dprintf(usage_fd, "peak_rss_kib %ld\n", peak_kib);
        close(usage_fd);
    } else {
        FILE *report = fopen(usage_file, "w");
        if (report) {
            fprintf(report, "peak_rss_kib %ld\n", peak_kib);
            fclose(report);
        }
    }
    die_like(status);
    return 125;
}
