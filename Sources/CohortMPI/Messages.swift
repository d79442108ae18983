/// Version of the message encoding; the first byte of every message. Ranks
/// of one job run one binary, so a mismatch means a broken installation.
public let wireProtocolVersion: UInt8 = 10
