import Glibc

/// The system's words for an `errno` value and for a file's type: the one place chartsync turns
/// C error numbers and `st_mode` bits into text for messages.
public enum SystemError {
    /// The system's text for `code` (default: the current errno), e.g. "No such file or directory".
    public static func text(_ code: Int32 = errno) -> String {
        guard let text = strerror(code) else { return "errno \(code)" }
        return String(cString: text)
    }

    /// What a file of mode `mode` is, for messages: "a symbolic link", "a FIFO", ...
    public static func describe(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFREG: return "a regular file"
        case S_IFLNK: return "a symbolic link"
        case S_IFDIR: return "a directory"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFIFO: return "a FIFO"
        case S_IFSOCK: return "a socket"
        default: return "a file of unknown type"
        }
    }
}

/// A failed system call: its errno, for callers that put the system's words into their own errors.
public struct SystemCallError: Error, Sendable, Equatable {
    /// The errno value.
    public let code: Int32

    /// Captures `code` (default: the current errno).
    public init(code: Int32 = errno) {
        self.code = code
    }

    /// The system's text for the code.
    public var text: String { SystemError.text(code) }
}
