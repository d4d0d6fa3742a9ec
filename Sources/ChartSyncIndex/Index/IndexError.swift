/// Why an index could not be read.
public enum IndexError: Error, Sendable, CustomStringConvertible {
    /// The index file has no bytes (Helm: "empty index.yaml file").
    case empty(source: String)
    /// The index has no top-level `apiVersion` (Helm: "no API version specified").
    case noAPIVersion(source: String)
    /// The text is not valid YAML, or its structure is not an index; names the line.
    case malformed(YAMLError)
    /// The file could not be opened or read.
    case unreadable(source: String, message: String)

    public var description: String {
        switch self {
        case .empty(let source): return "\(source): empty index.yaml file"
        case .noAPIVersion(let source): return "\(source): no API version specified"
        case .malformed(let error): return "\(error.source): line \(error.line), column \(error.column): \(error.message)"
        case .unreadable(let source, let message): return "\(source): cannot read index: \(message)"
        }
    }
}

/// Something in an index that chartsync skipped or found doubtful, as Helm would warn.
public struct IndexWarning: Sendable, CustomStringConvertible {
    /// The file path or redacted URL of the index.
    public let source: String
    /// 1-based line of the entry concerned.
    public let line: Int
    /// What was found and what was done about it.
    public let message: String

    public var description: String { "\(source): line \(line): \(message)" }
}
