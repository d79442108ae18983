// cohort-supervise: the worker's launcher and the direct parent of every
// module a worker runs.
//
// usage: cohort-supervise --serve WORKER_PID
//
// See launcher.c for the protocol on its standard input and output, and
// module.c for what it guarantees about each module.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervise.h"

int main(int argc, char **argv) {
    if (argc != 3 || strcmp(argv[1], "--serve") != 0) {
        fprintf(stderr, "usage: cohort-supervise --serve WORKER_PID\n");
        return 125;
    }
    return serve((pid_t)atol(argv[2]));
}
