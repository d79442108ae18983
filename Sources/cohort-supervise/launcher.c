// The worker's launcher: one long-lived process per worker rank that
// forks a supervisor for each module the worker asks for, so that starting
// a module costs the worker a write to a pipe instead of a spawn and an
// exec (issue 12: clone3 and the supervisor's exec were the worker's
// largest costs after inode creation).
//
// Requests arrive on descriptor 0, each a frame: a 4-byte little-endian
// length, then a kind byte and NUL-terminated fields.
//   'R' ID GRACE DIRECTORY LOG_FOLDER FOLDER_TO_MAKE ARGC ARGV... ENV...
//                        run a module (after making FOLDER_TO_MAKE, if not empty)
//   'T' ID    stop it (SIGTERM to its supervisor, SIGKILL after the grace)
//   'K' ID    stop it now (SIGKILL, no grace)
// Reports go to descriptor 1, one line each when a module has ended,
// written by its supervisor (or, when that was killed first, by the
// launcher, with PEAK_KIB -1), or could not be started:
//   ID exit CODE PEAK_KIB LOG_ERRNO | ID signal SIGNAL PEAK_KIB LOG_ERRNO
//   ID nostart ERRNO | ID nofolder ERRNO
//
// The launcher carries PR_SET_PDEATHSIG: when the worker dies (or closes
// the request pipe) it passes SIGTERM to every supervisor, which stops its
// module's whole tree, and leaves once they have all ended.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "supervise.h"

struct running_module {
    unsigned long long id;
    pid_t supervisor;
};

static struct running_module *running;
static size_t running_count, running_capacity;

static struct running_module *find_by_pid(pid_t pid) {
    for (size_t i = 0; i < running_count; i++) {
        if (running[i].supervisor == pid) return &running[i];
    }
    return NULL;
}

static void signal_supervisor(unsigned long long id, int sig) {
    for (size_t i = 0; i < running_count; i++) {
        if (running[i].id == id) kill(running[i].supervisor, sig);
    }
}

static void signal_all(int sig) {
    for (size_t i = 0; i < running_count; i++) kill(running[i].supervisor, sig);
}

static void write_all(int fd, const char *text, size_t length) {
    while (length > 0) {
        ssize_t written = write(fd, text, length);
        if (written < 0 && errno == EINTR) continue;
        if (written <= 0) return;  // the worker is gone
        text += written;
        length -= (size_t)written;
    }
}

// The module could not be started: `ID nostart ERRNO`.
static void report_not_started(unsigned long long id, int error) {
    char line[64];
    int length = snprintf(line, sizeof line, "%llu nostart %d\n", id, error);
    write_all(REPORTS_FD, line, (size_t)length);
}

// A report for a module whose supervisor was killed before it could give
// one (the OOM killer, a kill -9).
static void report(unsigned long long id, int status, int error) {
    char line[128];
    int length;
    if (WIFSIGNALED(status)) {
        length = snprintf(line, sizeof line, "%llu signal %d -1 %d\n", id, WTERMSIG(status), error);
    } else {
        length = snprintf(line, sizeof line, "%llu exit %d -1 %d\n", id, WEXITSTATUS(status), error);
    }
    write_all(REPORTS_FD, line, (size_t)length);
}

// Splits a frame's fields; the number found.
static size_t split_fields(char *payload, size_t length, char **fields, size_t capacity) {
    size_t count = 0;
    size_t start = 0;
    for (size_t i = 0; i < length && count < capacity; i++) {
        if (payload[i] == 0) {
            fields[count++] = payload + start;
            start = i + 1;
        }
    }
    return count;
}

static void start_module(char *payload, size_t length, pid_t self) {
    // Fields: ID GRACE DIRECTORY LOG_FOLDER FOLDER_TO_MAKE ARGC ARGV... ENV...
    size_t capacity = length + 2;
    char **fields = calloc(capacity, sizeof *fields);
    if (!fields) return;
    size_t count = split_fields(payload, length, fields, capacity);
    unsigned long long id = count > 0 ? strtoull(fields[0], NULL, 10) : 0;
    size_t argc = count > 5 ? (size_t)strtoul(fields[5], NULL, 10) : 0;
    if (count < 6 || argc == 0 || 6 + argc > count) {
        report(id, 125 << 8, 0);  // a malformed request: the worker's bug, said as exit 125
        free(fields);
        return;
    }
    // argv and environment as NULL-terminated arrays, in place: the fields
    // after argv are moved one up to make room for argv's NULL.
    char **argv = fields + 6;
    size_t environment_count = count - 6 - argc;
    memmove(argv + argc + 1, argv + argc, environment_count * sizeof *fields);
    argv[argc] = NULL;
    char **environment = argv + argc + 1;
    environment[environment_count] = NULL;
    struct module_request request = {
        .id = id, .grace_seconds = atoi(fields[1]), .directory = fields[2], .log_folder = fields[3],
        .folder_to_make = fields[4], .argv = argv, .environment = environment,
    };
    if (running_count == running_capacity) {
        size_t grown = running_capacity ? running_capacity * 2 : 16;
        struct running_module *bigger = realloc(running, grown * sizeof *running);
        if (!bigger) {
            report_not_started(id, ENOMEM);
            free(fields);
            return;
        }
        running = bigger, running_capacity = grown;
    }
    pid_t supervisor = fork();
    if (supervisor == 0) {
        // Not the request pipe; the report pipe stays: its supervisor reports
        // straight to the worker.
        int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
        dup2(null, 0);
        supervise_module(&request, self);
    }
    free(fields);
    if (supervisor < 0) {
        report_not_started(id, errno);
        return;
    }
    running[running_count++] = (struct running_module){id, supervisor};
}

// Takes every whole frame out of `buffer`; what is left is the start of the next.
static size_t take_frames(char *buffer, size_t used, pid_t self) {
    size_t offset = 0;
    while (used - offset >= 4) {
        const unsigned char *size = (const unsigned char *)buffer + offset;
        size_t length = (size_t)size[0] | (size_t)size[1] << 8 | (size_t)size[2] << 16 | (size_t)size[3] << 24;
        if (used - offset - 4 < length) break;
        char *payload = buffer + offset + 4;
        if (length > 0) {
            char kind = payload[0];
            unsigned long long id = strtoull(payload + 1, NULL, 10);
            if (kind == 'R') start_module(payload + 1, length - 1, self);
            if (kind == 'T') signal_supervisor(id, SIGTERM);
            if (kind == 'K') signal_supervisor(id, SIGUSR1);
        }
        offset += 4 + length;
    }
    memmove(buffer, buffer + offset, used - offset);
    return used - offset;
}

// Closes every descriptor from `first` on: close_range (Linux 5.9), else
// each one /proc/self/fd lists.
static void close_descriptors_from(int first) {
#ifdef SYS_close_range
    if (syscall(SYS_close_range, (unsigned)first, ~0U, 0) == 0) return;
#endif
    DIR *open_descriptors = opendir("/proc/self/fd");
    if (!open_descriptors) return;
    int own = dirfd(open_descriptors);
    struct dirent *entry;
    while ((entry = readdir(open_descriptors))) {
        int fd = atoi(entry->d_name);
        if (entry->d_name[0] != '.' && fd >= first && fd != own) close(fd);
    }
    closedir(open_descriptors);
}

static void kill_stray(pid_t pid, void *context) {
    (void)context;
    if (find_by_pid(pid)) return;
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
}

int serve(pid_t worker) {
    sigset_t handled;
    handled_signals(&handled);
    sigprocmask(SIG_BLOCK, &handled, NULL);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != worker) return 125;
    // A supervisor that is killed (kill -9, the OOM killer) cannot stop its
    // module: its orphans come here and are killed, so that no retry runs
    // beside an attempt still alive.
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    // Nothing of the worker's (MPI's sockets, its journal) reaches a module.
    close_descriptors_from(3);
    int signals = signalfd(-1, &handled, SFD_CLOEXEC | SFD_NONBLOCK);
    if (signals < 0) {
        perror("cohort-supervise");
        return 125;
    }
    size_t capacity = 1 << 16, used = 0;
    char *buffer = malloc(capacity);
    if (!buffer) return 125;
    pid_t self = getpid();
    int leaving = 0;
    while (!leaving || running_count > 0) {
        struct pollfd watched[2] = {{signals, POLLIN, 0}, {leaving ? -1 : 0, POLLIN, 0}};
        if (poll(watched, 2, -1) < 0 && errno != EINTR) break;
        if (!leaving && watched[1].revents) {
            if (used == capacity) {
                char *bigger = realloc(buffer, capacity * 2);
                if (!bigger) break;
                buffer = bigger, capacity *= 2;
            }
            ssize_t count = read(0, buffer + used, capacity - used);
            if (count > 0) {
                used = take_frames(buffer, used + (size_t)count, self);
            } else if (count == 0 || errno != EINTR) {
                leaving = 1;  // the worker closed the pipe or died
                signal_all(SIGTERM);
            }
        }
        struct signalfd_siginfo info;
        while (read(signals, &info, sizeof info) == sizeof info) {
            if (info.ssi_signo == SIGCHLD) continue;
            // The worker died (our parent-death signal) or asked everything to stop.
            if (info.ssi_signo == SIGUSR1) {
                signal_all(SIGUSR1);
            } else {
                leaving = 1;
                signal_all(SIGTERM);
            }
        }
        pid_t done;
        int status;
        int strays = 0;
        while ((done = waitpid(-1, &status, WNOHANG)) > 0) {
            struct running_module *module = find_by_pid(done);
            if (!module) {
                strays = 1;  // an orphan ended: others of its tree may live on
                continue;
            }
            // Exit 0: it reported the module itself.
            if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
                report(module->id, status, 0);
                strays = 1;
            }
            *module = running[--running_count];
        }
        if (strays) for_each_child(self, kill_stray, NULL);
    }
    return 0;
}
