internal import CCurl
import ChartSyncBasics
import ChartSyncCore
import struct Crypto.SHA256
import Glibc

/// The destination of one transfer: a file descriptor written as bytes arrive (or, for
/// in-memory requests, a byte array), and their SHA-256.
/// Only the thread running the transfer touches it (libcurl calls back on that thread). A file's
/// bytes are gathered into blocks of 64 KiB (libcurl hands over 16 KiB at a time), each written
/// with one write(2) while still in the CPU's cache, then hashed on a thread of their own
/// (`BackgroundHasher`: 16 blocks, 1 MiB per transfer at most), and pushed to the disk as they
/// are written (`Writeback`), so that the fsync at the end is short.
final class BodySink {
    /// The most bytes of a non-success response body read (and dropped, or kept in memory)
    /// before the transfer is cut.
    static let discardLimit = 64 * 1024

    /// The file written ("" in memory).
    let path: String
    let maxBytes: Int64?
    private var fd: Int32
    /// Whether the body goes to `memory` instead of a file.
    let inMemory: Bool
    /// The body received in memory: a success body, or the first bytes of an error body.
    private(set) var memory: [UInt8] = []
    /// The hash of an in-memory body.
    private var hasher = SHA256()
    /// The blocks and hash of a file's bytes (nil in memory).
    private let background: BackgroundHasher?
    private var writeback = Writeback()
    /// The bytes received (in the file once `finish` wrote the last block).
    private(set) var bytes: Int64 = 0
    /// The bytes in the file.
    private var written: Int64 = 0

    // Per response state.
    private var handle: UnsafeMutableRawPointer?
    private var isHTTP = true
    private var statusChecked = false
    private var discarding = false
    private var discarded = 0
    /// The body of a non-success response was cut short on purpose.
    private(set) var abortedDiscard = false
    /// The body grew beyond `maxBytes`.
    private(set) var sizeExceeded = false
    /// The errno of a failed write.
    private(set) var writeErrno: Int32?

    /// Creates or truncates the file at `path` (never through a symlink).
    /// Told the byte count as the body arrives.
    private let progress: TransferProgress?
    /// The byte count last reported.
    private var reported: Int64 = 0

    init(path: String, maxBytes: Int64?, progress: TransferProgress? = nil) throws(TransportError) {
        self.progress = progress
        self.path = path
        self.maxBytes = maxBytes
        inMemory = false
        background = BackgroundHasher(blockSize: 64 << 10, blocks: 16)
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard fd >= 0 else { throw .io(path: path, message: SystemError.text(errno)) }
    }

    /// Collects the body in memory, at most `maxBytes` of a success body and `discardLimit` of another.
    init(memoryLimit maxBytes: Int64) {
        progress = nil
        path = ""
        self.maxBytes = maxBytes
        inMemory = true
        background = nil
        fd = -1
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    /// Empties the file and the hash, and prepares for a response on `handle`.
    func restart(handle: UnsafeMutableRawPointer, isHTTP: Bool) throws(TransportError) {
        if inMemory {
            memory.removeAll(keepingCapacity: true)
        } else {
            guard ftruncate(fd, 0) == 0, lseek(fd, 0, SEEK_SET) == 0 else {
                throw .io(path: path, message: SystemError.text(errno))
            }
        }
        hasher = SHA256()
        background?.reset()
        writeback.reset()
        bytes = 0
        written = 0
        self.handle = handle
        self.isHTTP = isHTTP
        statusChecked = false
        discarding = false
        discarded = 0
        abortedDiscard = false
        sizeExceeded = false
        writeErrno = nil
    }

    /// Takes `count` bytes from libcurl; returns `count` to go on, anything else to abort.
    func receive(_ data: UnsafeRawPointer, count: Int) -> Int {
        if !statusChecked {
            statusChecked = true
            if isHTTP, let handle {
                var status = 0
                _ = ccurl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
                discarding = !(200..<300).contains(status)
            }
        }
        if discarding {
            discarded += count
            if discarded > BodySink.discardLimit {
                if inMemory { memory.append(contentsOf: UnsafeRawBufferPointer(
                    start: data, count: count - (discarded - BodySink.discardLimit))) }
                abortedDiscard = true
                return 0
            }
            if inMemory { memory.append(contentsOf: UnsafeRawBufferPointer(start: data, count: count)) }
            return count
        }
        if let maxBytes, bytes + Int64(count) > maxBytes {
            sizeExceeded = true
            return 0
        }
        if inMemory {
            memory.append(contentsOf: UnsafeRawBufferPointer(start: data, count: count))
            hasher.update(bufferPointer: UnsafeRawBufferPointer(start: data, count: count))
            bytes += Int64(count)
            return count
        }
        guard let background, background.update(UnsafeRawBufferPointer(start: data, count: count), flush: write)
        else { return 0 }
        bytes += Int64(count)
        if let progress, bytes - reported >= TransferProgress.step {
            reported = bytes
            progress(bytes)
        }
        return count
    }

    /// Writes one block at the end of the file; false (with `writeErrno` set) when it cannot.
    private func write(_ block: UnsafeRawBufferPointer) -> Bool {
        var done = 0
        while done < block.count {
            let n = Glibc.write(fd, block.baseAddress! + done, block.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                writeErrno = errno
                return false
            }
            if n == 0 {
                writeErrno = EIO
                return false
            }
            done += n
        }
        written += Int64(block.count)
        writeback.written(upTo: written, fd: fd)
        return true
    }

    /// Writes the last block, flushes and closes the file; returns the SHA-256 of its bytes.
    func finish() throws(TransportError) -> Digest {
        guard let background else { return Digest(bytes: hasher.finalize()) }
        guard let digest = background.finalize(flush: write) else {
            throw .io(path: path, message: SystemError.text(writeErrno ?? EIO))
        }
        guard fsync(fd) == 0 else { throw .io(path: path, message: SystemError.text(errno)) }
        let result = close(fd)
        fd = -1
        guard result == 0 else { throw .io(path: path, message: SystemError.text(errno)) }
        return digest
    }

    /// Closes and removes the file after a failure (forgets the body in memory).
    func discard() {
        if inMemory {
            memory = []
            return
        }
        if fd >= 0 {
            close(fd)
            fd = -1
        }
        unlink(path)
    }
}
