import ChartSyncCore
import struct Crypto.SHA256
import Glibc

/// A file-system failure, naming the path and the system's reason.
public struct FileSystemError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The path concerned.
    public let path: String
    /// What was being done and why it failed.
    public let message: String

    /// Creates an error for `path`.
    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}

/// The file operations chartsync builds its integrity rules on: files reach their final path
/// only by rename after being written and flushed; symlinks are never written through.
public enum FileSystem {
    /// Writes `bytes` to `path` atomically: a temporary file in the same directory, fsync, rename,
    /// fsync of the directory. Refuses when `path` is a symlink. Leaves no temporary file on failure.
    public static func writeAtomically(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644) throws(FileSystemError) {
        var info = stat()
        if lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFLNK {
            throw FileSystemError(path: path, message: "is a symbolic link; refusing to write through it")
        }
        let directory = parent(of: path)
        var template = Array((directory + "/.chartsync-tmp-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw FileSystemError(path: path, message: "cannot create a temporary file: \(SystemError.text())") }
        let temporary = String(cString: template)
        var ok = false
        defer {
            if !ok { unlink(temporary) }
        }
        do {
            defer { close(fd) }
            try writeAll(fd: fd, bytes, path: path)
            guard fchmod(fd, mode) == 0, fsync(fd) == 0 else {
                throw FileSystemError(path: path, message: "cannot flush: \(SystemError.text())")
            }
        }
        guard rename(temporary, path) == 0 else { throw FileSystemError(path: path, message: "cannot rename into place: \(SystemError.text())") }
        ok = true
        syncDirectory(directory)
    }

    /// Writes `bytes` to `path` only when nothing (not even a dangling link) is there: a flushed
    /// temporary file in the same directory, hard-linked to `path` (which fails rather than
    /// replaces), then removed. False when something is at `path`; nothing is left behind.
    public static func createExclusively(_ bytes: [UInt8], at path: String, mode: mode_t = 0o644) throws(FileSystemError) -> Bool {
        let directory = parent(of: path)
        var template = Array((directory + "/.chartsync-tmp-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw FileSystemError(path: path, message: "cannot create a temporary file: \(SystemError.text())") }
        let temporary = String(cString: template)
        defer { unlink(temporary) }
        do {
            defer { close(fd) }
            try writeAll(fd: fd, bytes, path: path)
            guard fchmod(fd, mode) == 0, fsync(fd) == 0 else {
                throw FileSystemError(path: path, message: "cannot flush: \(SystemError.text())")
            }
        }
        guard link(temporary, path) == 0 else {
            if errno == EEXIST { return false }
            throw FileSystemError(path: path, message: "cannot create: \(SystemError.text())")
        }
        syncDirectory(directory)
        return true
    }

    /// Writes every byte to `fd`, retrying short writes.
    public static func writeAll(fd: Int32, _ bytes: [UInt8], path: String) throws(FileSystemError) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, bytes.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileSystemError(path: path, message: "cannot write: \(SystemError.text())")
            }
            offset += n
        }
    }

    /// fsync of a directory, so a rename in it is durable.
    public static func syncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }

    /// The directory part of a path (`.` when there is none).
    public static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// A fresh private directory under `directory` (default: the system's temporary directory).
    public static func makeTemporaryDirectory(in directory: String? = nil, prefix: String = "chartsync") throws(FileSystemError) -> String {
        let base = directory ?? getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        var template = Array((base + "/" + prefix + "-XXXXXX").utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw FileSystemError(path: base, message: "cannot create a temporary directory: \(SystemError.text())")
        }
        return String(cString: template)
    }

    /// Puts `replacement` at `destination`: the old directory (if any) is first moved into
    /// `scratch` (same file system), so `destination` is always either the old or the new tree.
    public static func replaceDirectory(_ destination: String, with replacement: String, scratch: String) throws(FileSystemError) {
        if exists(destination) {
            guard isDirectory(destination) else {
                throw FileSystemError(path: destination, message: "exists and is not a directory; not replacing it")
            }
            try move(destination, to: scratch + "/previous")
        }
        do {
            try move(replacement, to: destination)
        } catch {
            if exists(scratch + "/previous") { _ = rename(scratch + "/previous", destination) }
            throw error
        }
        syncDirectory(parent(of: destination))
    }

    /// Removes a directory tree (no symlink is followed).
    public static func removeTree(_ path: String) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            for name in (try? listDirectory(path)) ?? [] { removeTree(path + "/" + name) }
            rmdir(path)
        } else {
            unlink(path)
        }
    }

    /// The names in a directory, sorted, without `.` and `..`.
    public static func listDirectory(_ path: String) throws(FileSystemError) -> [String] {
        guard let dir = opendir(path) else { throw FileSystemError(path: path, message: "cannot list: \(SystemError.text())") }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// Whether `path` is a regular file (symlinks are not followed).
    public static func isRegularFile(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }

    /// Whether `path` is a symbolic link.
    public static func isSymlink(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFLNK
    }

    /// Whether anything (even a dangling link) is at `path`.
    public static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// Reads a whole small file (refusing links).
    public static func readFile(_ path: String, limit: Int = 64 << 20) throws(FileSystemError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { throw FileSystemError(path: path, message: "cannot open: \(SystemError.text())") }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n < 0 {
                if errno == EINTR { continue }
                throw FileSystemError(path: path, message: "cannot read: \(SystemError.text())")
            }
            if n == 0 { return bytes }
            bytes += buffer[0..<n]
            if bytes.count > limit { throw FileSystemError(path: path, message: "larger than \(limit) bytes") }
        }
    }

    /// Renames, naming both paths on failure.
    public static func move(_ from: String, to: String) throws(FileSystemError) {
        guard rename(from, to) == 0 else {
            throw FileSystemError(path: to, message: "cannot move \(from) here: \(SystemError.text())")
        }
    }

    /// What changes when a file is written: device, inode, size, mtime and ctime (nanoseconds).
    public struct Identity: Equatable, Sendable {
        /// Device and inode.
        public let device: UInt64, inode: UInt64
        /// Size in bytes.
        public let size: Int64
        /// Modification and status-change times.
        public let mtime: Int64, mtimeNanoseconds: Int, ctime: Int64, ctimeNanoseconds: Int
    }

    /// The identity of a file (symlinks not followed); nil when it cannot be read.
    public static func identity(_ path: String) -> Identity? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return Identity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
                        mtime: Int64(info.st_mtim.tv_sec), mtimeNanoseconds: info.st_mtim.tv_nsec,
                        ctime: Int64(info.st_ctim.tv_sec), ctimeNanoseconds: info.st_ctim.tv_nsec)
    }

    /// The last component of a path.
    public static func baseName(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }

    /// Whether a regular file has any execute bit.
    public static func isExecutable(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && (info.st_mode & 0o111) != 0
    }

    /// Whether `path` is a directory (symlinks are not followed).
    public static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// The SHA-256 and size of a file (never through a symlink), read in 1 MiB blocks.
    public static func sha256(ofFile path: String) throws(FileSystemError) -> (digest: Digest, size: Int64) {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { throw FileSystemError(path: path, message: "cannot open: \(SystemError.text())") }
        defer { close(fd) }
        return try sha256(of: fd, path: path)
    }

    /// The SHA-256 and size of what is left to read from the open file `fd` (`path` names it in errors).
    public static func sha256(of fd: Int32, path: String) throws(FileSystemError) -> (digest: Digest, size: Int64) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        do {
            return try sha256(of: fd, buffer: buffer)
        } catch {
            throw FileSystemError(path: path, message: "cannot read: \(error.text)")
        }
    }

    /// The SHA-256 and size of what is left to read from `fd`, read through `buffer` (callers
    /// hashing many files share one buffer). The one file-hashing loop of chartsync.
    public static func sha256(of fd: Int32, buffer: UnsafeMutableRawBufferPointer) throws(SystemCallError) -> (digest: Digest, size: Int64) {
        var hasher = SHA256()
        var size: Int64 = 0
        while true {
            let n = read(fd, buffer.baseAddress, buffer.count)
            if n < 0 {
                if errno == EINTR { continue }
                throw SystemCallError(code: errno)
            }
            if n == 0 { break }
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            size += Int64(n)
        }
        return (Digest(bytes: hasher.finalize()), size)
    }

    /// Creates the directory `path` (mode 0755) unless a directory is already there.
    public static func makeDirectory(_ path: String) throws(FileSystemError) {
        guard mkdir(path, 0o755) == 0 || (errno == EEXIST && isDirectory(path)) else {
            throw FileSystemError(path: path, message: "cannot create: \(SystemError.text())")
        }
    }

    /// Creates `path` and every missing directory above it (mode 0755); a symbolic link on the way is refused.
    public static func makeDirectories(_ path: String) throws(FileSystemError) {
        if isDirectory(path) && !isSymlink(path) { return }
        let parent = self.parent(of: path)
        if parent != path && !parent.isEmpty { try makeDirectories(parent) }
        if isSymlink(path) { throw FileSystemError(path: path, message: "is a symbolic link; not creating a directory through it") }
        try makeDirectory(path)
    }

    /// Copies the regular file `source` (not through a link) to a new file `destination` with
    /// `mode`; the copy is flushed to disk. An existing `destination` is an error.
    public static func copyFile(_ source: String, to destination: String, mode: mode_t = 0o644) throws(FileSystemError) {
        let input = open(source, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard input >= 0 else { throw FileSystemError(path: source, message: SystemError.text()) }
        defer { close(input) }
        let output = open(destination, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode)
        guard output >= 0 else { throw FileSystemError(path: destination, message: "cannot create: \(SystemError.text())") }
        var done = false
        defer {
            close(output)
            if !done { unlink(destination) }
        }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = read(input, buffer.baseAddress, buffer.count)
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw FileSystemError(path: source, message: SystemError.text()) }
            if n == 0 { break }
            try writeAll(fd: output, Array(UnsafeRawBufferPointer(rebasing: buffer[0..<n])), path: destination)
        }
        guard fchmod(output, mode) == 0, fsync(output) == 0 else { throw FileSystemError(path: destination, message: SystemError.text()) }
        done = true
    }

    /// The type of what is at `path` (symlinks not followed), e.g. "a symbolic link"; nil when nothing is there.
    public static func kind(_ path: String) -> String? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return SystemError.describe(info.st_mode)
    }

    /// Removes the directory `path` if it is empty; true when it is gone.
    @discardableResult
    public static func removeEmptyDirectory(_ path: String) -> Bool {
        rmdir(path) == 0 || errno == ENOENT
    }

    /// Removes the file `path` (not a directory); true when it is gone.
    @discardableResult
    public static func removeFile(_ path: String) -> Bool {
        unlink(path) == 0 || errno == ENOENT
    }
}

/// What is at a path, symbolic links not followed.
public enum FileType: Sendable, Equatable {
    /// A regular file.
    case regular
    /// A directory.
    case directory
    /// Anything else, described for messages ("a symbolic link", "a FIFO", ...).
    case other(String)

    /// The type in words: "a regular file", "a directory", "a symbolic link", ...
    public var description: String {
        switch self {
        case .regular: return "a regular file"
        case .directory: return "a directory"
        case .other(let what): return what
        }
    }
}

extension FileSystem {
    /// The type of what is at `path` (symlinks not followed); nil when nothing is there.
    public static func type(of path: String) throws(FileSystemError) -> FileType? {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            if errno == ENOENT { return nil }
            throw FileSystemError(path: path, message: "cannot read: \(SystemError.text())")
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return .regular
        case S_IFDIR: return .directory
        default: return .other(SystemError.describe(info.st_mode))
        }
    }

    /// The permission bits of what is at `path` (symlinks not followed); nil when nothing is there.
    public static func permissions(_ path: String) -> mode_t? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return info.st_mode & 0o7777
    }
}
