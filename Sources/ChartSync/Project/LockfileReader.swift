import ChartSyncBasics
import ChartSyncCore
import ChartSyncIndex

/// Why versions.lock could not be read.
public enum LockfileReadError: Error, Sendable, CustomStringConvertible {
    /// Something other than a regular file is there (a symlink is never followed).
    case notRegular(path: String, what: String)
    /// The file is not a valid lock.
    case invalid(path: String, line: Int, message: String)
    /// The file could not be read.
    case fileSystem(FileSystemError)

    public var description: String {
        switch self {
        case .notRegular(let path, let what): return "\(path) is \(what), not a regular file"
        case .invalid(let path, let line, let message): return "\(path): line \(line): \(message)"
        case .fileSystem(let error): return error.description
        }
    }
}

/// Reads versions.lock with the one rule pull, the gate, bundle and images share: nothing there,
/// or a file holding only whitespace, is a project that has not pulled yet (nil); anything but
/// a regular file is refused, never followed; otherwise the file must be a valid lock.
public enum LockfileReader {
    /// The lock at `path`, or nil when the project has not pulled yet.
    public static func read(_ path: String) throws(LockfileReadError) -> Lockfile? {
        let type: FileType?
        let bytes: [UInt8]
        do {
            type = try FileSystem.type(of: path)
            bytes = type == .regular ? try FileSystem.readFile(path) : []
        } catch {
            throw .fileSystem(error)
        }
        guard let type else { return nil }
        guard type == .regular else { throw .notRegular(path: path, what: type.description) }
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0a || $0 == 0x09 || $0 == 0x0d }) { return nil }
        do {
            return try LockfileCoding.parse(bytes, source: path)
        } catch {
            throw .invalid(path: path, line: error.line, message: error.message)
        }
    }
}
