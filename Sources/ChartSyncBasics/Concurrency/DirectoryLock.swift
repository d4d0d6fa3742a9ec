import Glibc

/// An exclusive, non-blocking lock on a directory (flock), held until the value is released or
/// the process ends (a killed process leaves no stale lock).
public final class DirectoryLock {
    /// Why the lock was not taken.
    public enum Failure: Error, Sendable {
        /// Another process holds it.
        case locked(path: String)
        /// The directory could not be opened or locked.
        case fileSystem(FileSystemError)
    }

    private let fd: Int32

    /// Takes the lock on the directory `path`, or throws.
    public init(_ path: String) throws(Failure) {
        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .fileSystem(FileSystemError(path: path, message: "cannot open: \(SystemError.text())")) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let busy = errno == EWOULDBLOCK
            let reason = SystemError.text()
            close(fd)
            if busy { throw .locked(path: path) }
            throw .fileSystem(FileSystemError(path: path, message: "cannot lock: \(reason)"))
        }
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
