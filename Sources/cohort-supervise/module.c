// The direct parent of one module: forked by the launcher for each module
// it starts (no exec of its own).
//
// Why it exists: a parent-death signal reaches only the direct child, not
// the module's own children (NOTES-MPI). This process carries
// PR_SET_PDEATHSIG, runs the module in a process group of its own, and
// when the launcher dies or passes on a stop (SIGTERM/SIGINT), sends
// SIGTERM to that whole group and to every other descendant, then SIGKILL
// after the grace period (at once on SIGUSR1).
//
// Nothing a module starts outlives it: this process is a child subreaper,
// so descendants that left the module's group or session (`setsid`, a
// double fork) become its children when their parents end, and when the
// module ends they are killed with what is left of its group.
//
// The module's stdout and stderr are pipes read here: `stdout.log` and
// `stderr.log` (and their folder) are made on the first byte, so a module
// that prints nothing leaves no empty file.
//
// Memory is measured where it is spent: the module tree's peak, the larger
// of the largest single process's peak RSS (exact, from the kernel, for
// every process reaped) and the highest sum of the tree's RSS sampled five
// times a second from the moment it starts.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "supervise.h"

void handled_signals(sigset_t *set) {
    sigemptyset(set);
    sigaddset(set, SIGCHLD);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGHUP);
    sigaddset(set, SIGUSR1);  // stop everything now, no grace (the user asked twice)
}

// Says how the module ended, on the worker's report pipe (one write of a
// short line: never mixed with another supervisor's), and exits 0: the
// launcher reports only supervisors that end any other way.
static __attribute__((noreturn)) void report_and_exit(unsigned long long id, int status, long peak_kib, int log_error) {
    char line[128];
    int length = WIFSIGNALED(status)
        ? snprintf(line, sizeof line, "%llu signal %d %ld %d\n", id, WTERMSIG(status), peak_kib, log_error)
        : snprintf(line, sizeof line, "%llu exit %d %ld %d\n", id, WEXITSTATUS(status), peak_kib, log_error);
    while (write(REPORTS_FD, line, (size_t)length) < 0 && errno == EINTR) {}
    _exit(0);
}

static double seconds_now(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

// Makes `path` and its missing parents.
static int make_folders(char *path) {
    if (mkdir(path, 0755) == 0 || errno == EEXIST) return 0;
    if (errno != ENOENT) return -1;
    char *slash = strrchr(path, '/');
    if (!slash || slash == path) return -1;
    *slash = 0;
    int made = make_folders(path);
    *slash = '/';
    if (made != 0) return -1;
    return mkdir(path, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

// Makes the folder `path`, which must not exist yet (a clean start), and
// its missing parents; 0, or the errno of what failed.
static int make_fresh_folder(const char *path) {
    if (mkdir(path, 0755) == 0) return 0;
    if (errno != ENOENT) return errno;
    char parent[4096];
    int length = snprintf(parent, sizeof parent, "%s", path);
    char *slash = strrchr(parent, '/');
    if (length <= 0 || (size_t)length >= sizeof parent) return ENAMETOOLONG;
    if (!slash || slash == parent) return ENOENT;
    *slash = 0;
    if (make_folders(parent) != 0) return errno;
    return mkdir(path, 0755) == 0 ? 0 : errno;
}

// Writes `ID WHAT ERRNO` (the module did not start) and exits 0.
static __attribute__((noreturn)) void report_not_started(unsigned long long id, const char *what, int error) {
    char line[64];
    int length = snprintf(line, sizeof line, "%llu %s %d\n", id, what, error);
    while (write(REPORTS_FD, line, (size_t)length) < 0 && errno == EINTR) {}
    _exit(0);
}

// A module's output stream: the pipe it writes to, and the log file made
// for it when the first byte arrives.
struct lazy_log {
    int pipe;  // read end; -1 once it ended
    int file;  // -1 until made; -2 when it cannot be
    const char *folder;
    const char *name;
    int error;  // errno of a log that could not be made or written
};

static void log_write(struct lazy_log *log, const char *bytes, size_t count) {
    if (log->file == -1) {
        char path[4096];
        snprintf(path, sizeof path, "%s", log->folder);
        if (make_folders(path) != 0) {
            log->error = errno;
            log->file = -2;
        } else {
            snprintf(path, sizeof path, "%s/%s", log->folder, log->name);
            log->file = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
            if (log->file < 0) log->error = errno, log->file = -2;
        }
    }
    while (log->file >= 0 && count > 0) {
        ssize_t written = write(log->file, bytes, count);
        if (written < 0 && errno == EINTR) continue;
        if (written <= 0) {
            log->error = errno;
            break;  // a full disk: the module goes on, its output is lost
        }
        bytes += written;
        count -= (size_t)written;
    }
}

// Moves what the pipe holds to the log; at the end of the stream closes it.
static void log_drain(struct lazy_log *log) {
    char buffer[65536];
    while (log->pipe >= 0) {
        ssize_t count = read(log->pipe, buffer, sizeof buffer);
        if (count > 0) {
            log_write(log, buffer, (size_t)count);
            continue;
        }
        if (count < 0 && errno == EINTR) continue;
        if (count < 0 && errno == EAGAIN) return;
        close(log->pipe);
        log->pipe = -1;
    }
}

static void say(struct lazy_log *log, const char *format, const char *what, int error) {
    char line[4352];
    int length = snprintf(line, sizeof line, format, what, strerror(error));
    if (length > 0) log_write(log, line, (size_t)length < sizeof line ? (size_t)length : sizeof line - 1);
}

void supervise_module(const struct module_request *request, pid_t launcher) {
    sigset_t handled;
    handled_signals(&handled);
    sigprocmask(SIG_BLOCK, &handled, NULL);
    // If the launcher dies, we get SIGTERM. If it died before this line, we
    // would wait for a signal that never comes: check the parent.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != launcher) _exit(125);
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    int signals = signalfd(-1, &handled, SFD_CLOEXEC | SFD_NONBLOCK);
    if (signals < 0) report_not_started(request->id, "nostart", errno);
    // The instance folder, when the worker left it to us: this mkdir runs
    // beside the worker's loop instead of in it.
    if (request->folder_to_make[0]) {
        int error = make_fresh_folder(request->folder_to_make);
        if (error) report_not_started(request->id, "nofolder", error);
    }

    struct lazy_log logs[2] = {
        {-1, -1, request->log_folder, "stdout.log", 0},
        {-1, -1, request->log_folder, "stderr.log", 0},
    };
    int ends[2][2];
    if (pipe2(ends[0], O_CLOEXEC) != 0 || pipe2(ends[1], O_CLOEXEC) != 0) {
        report_not_started(request->id, "nostart", errno);
    }
    for (int i = 0; i < 2; i++) {
        logs[i].pipe = ends[i][0];
        fcntl(ends[i][0], F_SETFL, O_NONBLOCK);
    }
    for (char **entry = request->environment; *entry; entry++) putenv(*entry);

    int status = 0;
    pid_t module = -1;
    if (chdir(request->directory) != 0) {
        say(&logs[1], "cohort: cannot enter %s: %s\n", request->directory, errno);
        status = 126 << 8;
    } else if ((module = fork()) < 0) {
        say(&logs[1], "cohort: cannot start %s: %s\n", request->argv[0], errno);
        status = 126 << 8;
    } else if (module == 0) {
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, 0);
        int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
        dup2(null, 0);
        dup2(ends[0][1], 1);
        dup2(ends[1][1], 2);
        // Dispositions are the defaults already (the worker spawned the
        // launcher so, and signals here go through a signalfd): only the mask.
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        // argv[0] is /bin/sh, or a plain run line's own program (found on
        // the module's PATH as the shell would, with the shell's exit codes).
        execvp(request->argv[0], request->argv);
        int error = errno;
        if (error == ENOENT && !strchr(request->argv[0], '/')) {
            dprintf(2, "cohort: %s: command not found\n", request->argv[0]);
        } else {
            dprintf(2, "cohort: cannot run %s: %s\n", request->argv[0], strerror(error));
        }
        _exit(error == ENOENT || error == ENOTDIR ? 127 : 126);
    }
    close(ends[0][1]);
    close(ends[1][1]);
    if (module > 0) setpgid(module, module);  // also here: no race with a signal sent to the group

    long page_kib = sysconf(_SC_PAGESIZE) / 1024;
    long peak_sampled_kib = 0;
    double last_sample = seconds_now();
    int module_done = module < 0;
    int stopping = 0;
    double deadline = 0;
    while (!module_done) {
        struct pollfd watched[3] = {{signals, POLLIN, 0}, {logs[0].pipe, POLLIN, 0}, {logs[1].pipe, POLLIN, 0}};
        // Re-check the deadline while stopping; sample memory otherwise.
        int timeout = stopping ? 100 : 200;
        if (stopping && seconds_now() >= deadline) signal_everything(module, SIGKILL);
        poll(watched, 3, timeout);
        log_drain(&logs[0]);
        log_drain(&logs[1]);
        if (seconds_now() - last_sample >= 0.2) {
            last_sample = seconds_now();
            long pages = tree_rss_pages(getpid());
            if (pages * page_kib > peak_sampled_kib) peak_sampled_kib = pages * page_kib;
        }
        struct signalfd_siginfo info;
        while (read(signals, &info, sizeof info) == sizeof info) {
            int sig = (int)info.ssi_signo;
            if (sig == SIGCHLD) continue;
            // SIGTERM, SIGINT or SIGHUP: the launcher stops the module, or died.
            if (!stopping) {
                stopping = 1;
                if (getppid() != launcher) {
                    static const char orphaned[] = "cohort: the worker's module launcher (cohort-supervise) died: this module was stopped\n";
                    log_write(&logs[1], orphaned, sizeof orphaned - 1);
                }
                signal_everything(module, SIGTERM);
                signal_everything(module, SIGCONT);
                deadline = seconds_now() + request->grace_seconds;
            }
            if (sig == SIGUSR1) deadline = seconds_now();
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
    }
    // Whatever the module left running, in its group or escaped from it:
    // kill it, reap it, and again for what was handed over meanwhile. With
    // no child left there is nothing: every process of the module's group
    // descends from it, and every orphan of its tree is handed to us.
    if (module > 0) kill(-module, SIGKILL);
    pid_t reaped;
    while ((reaped = waitpid(-1, NULL, WNOHANG)) > 0) {}
    int none_left = reaped < 0 && errno == ECHILD;
    while (module > 0 && !none_left) {
        int left = signal_everything(module, SIGKILL);
        pid_t done = waitpid(-1, NULL, left > 0 ? 0 : WNOHANG);
        if (done < 0 && errno == ECHILD) break;
        if (done == 0 && left == 0) break;
    }
    // Every writer is gone: what is left in the pipes goes to the logs.
    log_drain(&logs[0]);
    log_drain(&logs[1]);
    struct rusage usage;
    long peak_kib = peak_sampled_kib;
    if (getrusage(RUSAGE_CHILDREN, &usage) == 0 && usage.ru_maxrss > peak_kib) peak_kib = usage.ru_maxrss;
    report_and_exit(request->id, status, peak_kib, logs[0].error ? logs[0].error : logs[1].error);
}
