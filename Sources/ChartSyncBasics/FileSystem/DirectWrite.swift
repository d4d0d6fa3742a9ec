internal import CLinux
import Glibc

/// Writes a new file front to back, around the page cache where the file system allows it
/// (`O_DIRECT`): bytes whose memory and file offset are page-aligned go from the caller's memory
/// to the device in whole pages, without the copy into the page cache (and the writeback after
/// it) that a buffered write costs, which for gigabytes of image layers is most of the CPU time of
/// an extraction. The last bytes (less than a page), and everything once a write could not be
/// aligned or the file system refused direct I/O, go through the page cache as usual (queued for
/// writeback as they come, see ``Writeback``). The descriptor stays the caller's, who still fsyncs
/// it: a direct write does not flush the device's cache, nor the file's size and blocks.
public struct DirectWrite {
    /// What memory, sizes and offsets of direct writes are aligned to: a page, enough for the
    /// logical block of any device.
    public static let alignment = 4096

    /// The file written.
    public let fd: Int32
    /// Bytes written from the file's start.
    public private(set) var written: Int64 = 0
    /// Whether writes go around the page cache now.
    public private(set) var direct: Bool
    private var writeback = Writeback()

    /// Writes to `fd` (a new, empty file open for writing), around the page cache when `direct`
    /// and the file system accepts it.
    public init(fd: Int32, direct: Bool = true) {
        self.fd = fd
        self.direct = direct && DirectWrite.setDirect(fd, true)
    }

    /// Appends all of `bytes`; throws the errno of a write that failed.
    public mutating func write(_ bytes: UnsafeRawBufferPointer) throws(SystemCallError) {
        var offset = 0
        while offset < bytes.count {
            let start = bytes.baseAddress! + offset
            var length = bytes.count - offset
            if direct {
                let aligned = Int(bitPattern: start) % Self.alignment == 0 && written % Int64(Self.alignment) == 0
                let pages = aligned ? length - length % Self.alignment : 0
                if pages > 0 {
                    length = pages
                } else {
                    // Less than a page, or not aligned: this and the rest go through the page cache.
                    try buffered()
                }
            }
            let count = Glibc.write(fd, start, length)
            if count < 0 {
                if errno == EINTR { continue }
                // The file system took O_DIRECT for the file but not for this write.
                if errno == EINVAL && direct {
                    try buffered()
                    continue
                }
                throw SystemCallError()
            }
            if count == 0 { throw SystemCallError(code: EIO) }
            offset += count
            written += Int64(count)
        }
        if !direct { writeback.written(upTo: written, fd: fd) }
    }

    /// Writes through the page cache from now on.
    private mutating func buffered() throws(SystemCallError) {
        guard Self.setDirect(fd, false) else { throw SystemCallError() }
        direct = false
    }

    /// Turns `O_DIRECT` on or off for `fd`; false when that fails (the file system does not do
    /// direct I/O).
    private static func setDirect(_ fd: Int32, _ on: Bool) -> Bool {
        let flags = fcntl(fd, F_GETFL)
        guard flags >= 0 else { return false }
        let wanted = on ? flags | clinux_o_direct : flags & ~clinux_o_direct
        return wanted == flags || fcntl(fd, F_SETFL, wanted) == 0
    }
}
