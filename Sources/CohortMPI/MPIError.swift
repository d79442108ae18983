internal import CMPI

/// An MPI call that returned something other than `MPI_SUCCESS`.
///
/// Errors reach Swift as values because `MPIRuntime.initialize` installs
/// `MPI_ERRORS_RETURN` on the world communicator.
public struct MPIError: Error, CustomStringConvertible, Sendable {
    /// The MPI error code.
    public let code: Int32
    /// The MPI call that failed, e.g. `MPI_Send`.
    public let operation: String
    /// OpenMPI's own text for `code`, from `MPI_Error_string`.
    public let message: String

    init(code: Int32, operation: String) {
        self.code = code
        self.operation = operation
        self.message = MPIError.text(for: code)
    }

    public var description: String { "\(operation) failed: \(message) (MPI error \(code))" }

    static func text(for code: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: Int(MPI_MAX_ERROR_STRING) + 1)
        var length: Int32 = 0
        guard MPI_Error_string(code, &buffer, &length) == MPI_SUCCESS else { return "unknown MPI error" }
        let bytes = buffer.prefix(Int(max(0, length))).map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Turns an MPI return code into a thrown `MPIError`.
@inline(__always)
func check(_ code: Int32, _ operation: @autoclosure () -> String) throws(MPIError) {
    if code != MPI_SUCCESS { throw MPIError(code: code, operation: operation()) }
}
