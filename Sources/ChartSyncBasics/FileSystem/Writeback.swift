internal import CLinux
import Glibc

/// Pushes a file's bytes toward the disk while it is being written, so that the fsync before its
/// rename finds little left to do: every `step` bytes, the bytes just written are queued for
/// writeback (Linux `sync_file_range`, which does not wait). Best effort: failures are ignored,
/// the final fsync still makes the file durable and reports errors.
public struct Writeback: Sendable {
    /// How many bytes are written between two calls into the kernel.
    public let step: Int64
    /// Bytes `0 ..< queued` were queued for writeback.
    private var queued: Int64 = 0

    /// Queues writeback every `step` bytes.
    public init(step: Int64 = 8 << 20) {
        self.step = max(1 << 20, step)
    }

    /// Told that `fd` now holds `end` bytes written from its start.
    public mutating func written(upTo end: Int64, fd: Int32) {
        guard end - queued >= step else { return }
        _ = sync_file_range(fd, off_t(queued), off_t(end - queued), clinux_sync_file_range_write)
        queued = end
    }

    /// The file was emptied: start over.
    public mutating func reset() {
        queued = 0
    }
}
