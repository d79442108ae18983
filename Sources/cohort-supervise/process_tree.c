// A supervisor's view of the processes under it, read from /proc: to
// measure the tree's memory and to signal what escaped the module's group.
#define _GNU_SOURCE
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "supervise.h"

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
void for_each_child(pid_t pid, void (*visit)(pid_t, void *), void *context) {
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

// Resident pages of every process under `pid` (not `pid` itself).
long tree_rss_pages(pid_t pid) {
    long pages = 0;
    for_each_child(pid, add_tree_rss, &pages);
    return pages;
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
int signal_everything(pid_t module, int sig) {
    kill(-module, sig);
    for_each_child(getpid(), signal_child, &sig);
    int count = 0;
    for_each_child(getpid(), count_child, &count);
    return count;
}
