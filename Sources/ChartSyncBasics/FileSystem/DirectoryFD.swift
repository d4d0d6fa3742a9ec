import Glibc

/// File-descriptor-relative file operations that never follow symbolic links: every path
/// component is opened with `O_NOFOLLOW` relative to an already open directory.
public enum DirectoryFD {
    /// Opens the directory `name` inside `parent` without following a symlink; -1 with errno set otherwise.
    public static func openDirectory(_ name: String, in parent: Int32) -> Int32 {
        openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
    }

    /// Opens the directory at `path` (its last component must not be a symlink); -1 with errno set otherwise.
    public static func openDirectory(path: String) -> Int32 {
        open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
    }

    /// The names in the directory `fd` (without `.` and `..`) as raw bytes; nil with errno set on failure.
    public static func names(in fd: Int32) -> [[UInt8]]? {
        let copy = dup(fd)
        guard copy >= 0 else { return nil }
        guard let stream = fdopendir(copy) else {
            let saved = errno
            close(copy)
            errno = saved
            return nil
        }
        defer { closedir(stream) }
        rewinddir(stream)
        var result: [[UInt8]] = []
        while true {
            errno = 0
            guard let entry = readdir(stream) else {
                if errno != 0 { return nil }
                break
            }
            let bytes = withUnsafePointer(to: &entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: UInt8.self, capacity: 256) { base in
                    Array(UnsafeBufferPointer(start: base, count: strlen(UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self))))
                }
            }
            if bytes == [46] || bytes == [46, 46] { continue }
            result.append(bytes)
        }
        return result
    }

    /// Removes `name` inside `parent` and everything below it, never following symlinks
    /// (a symlink is removed itself). Best effort: returns false when something could not be removed.
    @discardableResult
    public static func removeTree(_ name: [UInt8], in parent: Int32) -> Bool {
        let path = name.map { CChar(bitPattern: $0) } + [0]
        var info = stat()
        guard fstatat(parent, path, &info, AT_SYMLINK_NOFOLLOW) == 0 else { return errno == ENOENT }
        guard (info.st_mode & S_IFMT) == S_IFDIR else { return unlinkat(parent, path, 0) == 0 }
        let fd = openat(parent, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        var ok = true
        if fd >= 0 {
            if let children = names(in: fd) {
                for child in children where !removeTree(child, in: fd) { ok = false }
            } else {
                ok = false
            }
            close(fd)
        }
        return unlinkat(parent, path, AT_REMOVEDIR) == 0 && ok
    }

    /// fsync of every directory at and below `fd`, so that the entries created in them are durable.
    public static func syncDirectories(_ fd: Int32) {
        fsync(fd)
        guard let children = names(in: fd) else { return }
        for child in children {
            let path = child.map { CChar(bitPattern: $0) } + [0]
            var info = stat()
            guard fstatat(fd, path, &info, AT_SYMLINK_NOFOLLOW) == 0, (info.st_mode & S_IFMT) == S_IFDIR else { continue }
            let sub = openat(fd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard sub >= 0 else { continue }
            syncDirectories(sub)
            close(sub)
        }
    }

    /// fsync of every regular file and directory at and below `fd` (a directory after what it
    /// holds), never following a symlink: a tree written without flushing each file is made
    /// durable in one pass before it is renamed into place (the file system commits the metadata of
    /// many files at once). The first failure, with its path relative to `fd` ("" for `fd`
    /// itself); nil when everything was flushed.
    public static func syncTree(_ fd: Int32) -> (path: String, error: SystemCallError)? {
        syncTree(fd, prefix: "")
    }

    private static func syncTree(_ fd: Int32, prefix: String) -> (path: String, error: SystemCallError)? {
        guard let children = names(in: fd) else { return (prefix, SystemCallError()) }
        for child in children {
            let path = child.map { CChar(bitPattern: $0) } + [0]
            let relative = prefix + (prefix.isEmpty ? "" : "/") + String(decoding: child, as: UTF8.self)
            var info = stat()
            guard fstatat(fd, path, &info, AT_SYMLINK_NOFOLLOW) == 0 else { return (relative, SystemCallError()) }
            let isDirectory = (info.st_mode & S_IFMT) == S_IFDIR
            guard isDirectory || (info.st_mode & S_IFMT) == S_IFREG else { continue }
            let flags = isDirectory ? O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC : O_RDONLY | O_NOFOLLOW | O_CLOEXEC
            let sub = openat(fd, path, flags)
            guard sub >= 0 else { return (relative, SystemCallError()) }
            defer { close(sub) }
            if isDirectory {
                if let failure = syncTree(sub, prefix: relative) { return failure }
            } else if fsync(sub) != 0 {
                return (relative, SystemCallError())
            }
        }
        return fsync(fd) == 0 ? nil : (prefix, SystemCallError())
    }

    /// The directory part and the last component of `path` (`.` when there is no directory part).
    public static func splitPath(_ path: String) -> (parent: String, name: String) {
        var trimmed = Substring(path)
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        guard let slash = trimmed.lastIndex(of: "/") else { return (".", String(trimmed)) }
        let parent = slash == trimmed.startIndex ? "/" : String(trimmed[..<slash])
        return (parent, String(trimmed[trimmed.index(after: slash)...]))
    }
}
