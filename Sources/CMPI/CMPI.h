#ifndef CMPI_H
#define CMPI_H

// OpenMPI's handles (MPI_COMM_WORLD, MPI_BYTE, ...) are cast macros Swift
// cannot import; each is exposed here as a prefixed static inline accessor.
#include <mpi.h>

/// MPI_COMM_WORLD: every rank of the job.
static inline MPI_Comm CMPI_comm_world(void) { return MPI_COMM_WORLD; }

/// MPI_BYTE: messages travel as raw bytes in our own encoding.
static inline MPI_Datatype CMPI_byte(void) { return MPI_BYTE; }

/// MPI_ERRORS_RETURN: errors come back as codes instead of aborting the job.
static inline MPI_Errhandler CMPI_errors_return(void) { return MPI_ERRORS_RETURN; }

/// MPI_STATUSES_IGNORE: completions whose statuses nobody reads.
static inline MPI_Status *CMPI_statuses_ignore(void) { return MPI_STATUSES_IGNORE; }

#endif
