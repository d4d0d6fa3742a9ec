import ChartSyncBasics
import ChartSyncCore
import struct Crypto.SHA256
import Glibc

/// The digest of an unpacked chart: the one recorded in versions.lock for unpacked charts.
public enum TreeDigest {
    /// The digest of a directory tree of regular files: SHA-256 over the lines
    /// `<sha256 hex of file>  <relative path>\n` sorted by path bytes, which is exactly what
    /// `(cd DIR && find . -type f | sed 's|^\./||' | LC_ALL=C sort | xargs sha256sum) | sha256sum`
    /// prints. Directories are implied (empty ones do not count). Refuses, naming the path,
    /// symlinks (the directory itself included), anything else that is not a regular file or a
    /// directory, and names that are not UTF-8 or hold a backslash or control character (names
    /// `sha256sum` would escape).
    public static func compute(directory: String) throws(ArchiveError) -> (digest: Digest, files: [String]) {
        let hashes = try listing(directory: directory)
        return (digest(of: hashes), hashes.map(\.path))
    }

    /// Every regular file under `directory` with its SHA-256 hex, sorted by path bytes: the lines
    /// the tree digest is made of. Refuses what ``compute(directory:)`` refuses.
    public static func listing(directory: String) throws(ArchiveError) -> [(path: String, sha256: String)] {
        var info = stat()
        guard lstat(directory, &info) == 0 else { throw .cannotReadTree(path: directory, message: SystemError.text()) }
        if (info.st_mode & S_IFMT) == S_IFLNK { throw .unsafeTreeEntry(path: directory, reason: "a symbolic link") }
        guard (info.st_mode & S_IFMT) == S_IFDIR else { throw .unsafeTreeEntry(path: directory, reason: "something that is not a directory") }
        let fd = DirectoryFD.openDirectory(path: directory)
        guard fd >= 0 else { throw .cannotReadTree(path: directory, message: SystemError.text()) }
        defer { close(fd) }
        var hashes: [(String, String)] = []
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
        defer { buffer.deallocate() }
        try walk(fd, path: directory, relative: "", into: &hashes, buffer: buffer)
        return hashes.sorted { EntryPath.byteOrder($0.0, $1.0) }.map { (path: $0.0, sha256: $0.1) }
    }

    /// The tree digest of a listing sorted by path bytes (as ``listing(directory:)`` returns it).
    public static func digest(of listing: [(path: String, sha256: String)]) -> Digest {
        var hasher = SHA256()
        for (path, hex) in listing {
            hasher.update(data: Array("\(hex)  \(path)\n".utf8))
        }
        return Digest(bytes: hasher.finalize())
    }

    /// The digest of (relative path, sha256 hex) pairs in `sha256sum` line form, and the sorted paths.
    static func combine(_ hashes: [(String, String)]) -> (digest: Digest, files: [String]) {
        let sorted = hashes.sorted { EntryPath.byteOrder($0.0, $1.0) }.map { (path: $0.0, sha256: $0.1) }
        return (digest(of: sorted), sorted.map(\.path))
    }

    private static func walk(
        _ fd: Int32, path: String, relative: String, into hashes: inout [(String, String)],
        buffer: UnsafeMutableRawBufferPointer
    ) throws(ArchiveError) {
        guard let names = DirectoryFD.names(in: fd) else { throw .cannotReadTree(path: path, message: SystemError.text()) }
        for raw in names {
            let display = String(decoding: raw, as: UTF8.self)
            let childPath = path + "/" + display
            guard let name = String(validating: raw, as: UTF8.self) else {
                throw .unsafeTreeEntry(path: childPath, reason: "a name that is not valid UTF-8")
            }
            if name.unicodeScalars.contains(where: { $0 == "\\" || $0.value < 0x20 || $0.value == 0x7f }) {
                throw .unsafeTreeEntry(path: childPath, reason: "a name with a backslash or control character")
            }
            let childRelative = relative.isEmpty ? name : relative + "/" + name
            var info = stat()
            guard fstatat(fd, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else {
                throw .cannotReadTree(path: childPath, message: SystemError.text())
            }
            switch info.st_mode & S_IFMT {
            case S_IFDIR:
                let child = DirectoryFD.openDirectory(name, in: fd)
                guard child >= 0 else { throw .cannotReadTree(path: childPath, message: SystemError.text()) }
                defer { close(child) }
                try walk(child, path: childPath, relative: childRelative, into: &hashes, buffer: buffer)
            case S_IFREG:
                let hex = try hashFile(name, in: fd, path: childPath, buffer: buffer)
                hashes.append((childRelative, hex))
            default:
                throw .unsafeTreeEntry(path: childPath, reason: SystemError.describe(info.st_mode))
            }
        }
    }

    private static func hashFile(
        _ name: String, in directory: Int32, path: String, buffer: UnsafeMutableRawBufferPointer
    ) throws(ArchiveError) -> String {
        let fd = openat(directory, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw .cannotReadTree(path: path, message: SystemError.text()) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .cannotReadTree(path: path, message: SystemError.text()) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw .unsafeTreeEntry(path: path, reason: SystemError.describe(info.st_mode)) }
        do {
            return try FileSystem.sha256(of: fd, buffer: buffer).digest.hex
        } catch {
            throw .cannotReadTree(path: path, message: error.text)
        }
    }
}
