internal import CArchive
import ChartSyncBasics
import struct Crypto.SHA256
import Glibc

/// Creates directories and files below an open root directory with fd-relative calls only:
/// every component is opened with `O_NOFOLLOW`, files are created with `O_EXCL`, so nothing is
/// ever written through a symlink or outside the root. The caller owns `root`.
struct TreeWriter {
    /// A failed system call, with the system's text for its errno.
    struct Failure: Error {
        /// The reason, as it appears in messages.
        let message: String
        init(_ message: String = SystemError.text()) { self.message = message }
    }

    /// The directory all writes are relative to.
    let root: Int32
    /// Relative paths of the directories that exist below the root ("" is the root itself).
    private(set) var directories: Set<String> = [""]

    init(root: Int32) { self.root = root }

    /// Opens the directory at `components` below the root, creating what is missing (mode 0755),
    /// never following a symlink. The caller closes the returned descriptor.
    mutating func openDirectory(_ components: ArraySlice<String>) throws(Failure) -> Int32 {
        var current = dup(root)
        guard current >= 0 else { throw Failure() }
        var prefix = ""
        for component in components {
            prefix = prefix.isEmpty ? component : prefix + "/" + component
            let created = !directories.contains(prefix)
            if created, mkdirat(current, component, 0o755) != 0 {
                let failure = Failure()
                close(current)
                throw failure
            }
            let next = DirectoryFD.openDirectory(component, in: current)
            let failure = Failure()
            close(current)
            guard next >= 0 else { throw failure }
            if created {
                guard fchmod(next, 0o755) == 0 else {
                    let failure = Failure()
                    close(next)
                    throw failure
                }
                directories.insert(prefix)
            }
            current = next
        }
        return current
    }

    /// Creates the new file at `components` (mode 0600 until the caller sets the final mode),
    /// creating its missing parent directories; fails if anything is at that path already.
    /// The caller closes the returned descriptor.
    mutating func createFile(_ components: [String]) throws(Failure) -> Int32 {
        precondition(!components.isEmpty, "a file has a name")
        let directory = try openDirectory(components.dropLast())
        let fd = openat(directory, components[components.count - 1], O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        let failure = Failure()
        close(directory)
        guard fd >= 0 else { throw failure }
        return fd
    }

    /// Writes all of `block` to `fd`, retrying short writes and EINTR.
    static func writeAll(_ fd: Int32, _ block: UnsafeRawBufferPointer) throws(Failure) {
        var offset = 0
        while offset < block.count {
            let written = write(fd, block.baseAddress! + offset, block.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw Failure()
            }
            offset += written
        }
    }

    /// Why copying an entry's data failed.
    enum CopyFailure: Error {
        /// libarchive could not deliver the data (truncated or corrupt stream); its message.
        case read(String)
        /// The file could not be written.
        case write(Failure)
        /// The caller's check refused the running size.
        case refused(ArchiveError)
    }

    /// Copies the data of `reader`'s current entry into `fd` in blocks of `buffer`'s size,
    /// hashing it into `hasher`. Before each block is written, `check` gets the block's size
    /// and may refuse it (size limits). Returns the number of bytes copied.
    static func copyEntryData(
        from reader: OpaquePointer, to fd: Int32, buffer: UnsafeMutableRawBufferPointer, hasher: inout SHA256,
        check: (Int) throws(ArchiveError) -> Void
    ) throws(CopyFailure) -> Int64 {
        var size: Int64 = 0
        while true {
            let count = archive_read_data(reader, buffer.baseAddress, buffer.count)
            if count == 0 { return size }
            guard count > 0 else { throw .read(LibArchiveEntry.message(reader)) }
            do throws(ArchiveError) { try check(count) } catch { throw .refused(error) }
            size += Int64(count)
            let block = UnsafeRawBufferPointer(start: buffer.baseAddress, count: count)
            hasher.update(bufferPointer: block)
            do throws(Failure) { try writeAll(fd, block) } catch { throw .write(error) }
        }
    }
}
