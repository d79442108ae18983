// Shared by the launcher (launcher.c), the per-module supervisor
// (module.c) and the process-tree helpers (process_tree.c).
#ifndef COHORT_SUPERVISE_H
#define COHORT_SUPERVISE_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

// One module to run, as the worker sent it (launcher.c parses the frame;
// every string points into the request's own buffer).
struct module_request {
    unsigned long long id;
    int grace_seconds;
    const char *directory;   // the module's working directory
    const char *log_folder;  // stdout.log and stderr.log go here, made on first output
    const char *folder_to_make;  // made (with missing parents) before the module starts; "" for none
    char **argv;             // NULL-terminated; argv[0] found on PATH without a slash
    char **environment;      // NULL-terminated NAME=value entries added to the launcher's own
};

// The signals a supervisor (and the launcher) handles through a signalfd.
void handled_signals(sigset_t *set);

// The worker's report pipe: the launcher's stdout, and every supervisor's.
#define REPORTS_FD 1

// Runs one module to its end in this (freshly forked) process, writes its
// report line to REPORTS_FD and exits 0: never returns.
void supervise_module(const struct module_request *request, pid_t launcher)
    __attribute__((noreturn));

// Runs the worker's launcher until the worker is gone and every module has
// ended; returns the exit code.
int serve(pid_t worker);

// Process tree (process_tree.c).
void for_each_child(pid_t pid, void (*visit)(pid_t, void *), void *context);
long tree_rss_pages(pid_t pid);
int signal_everything(pid_t module, int sig);

#endif
