internal import CArchive
import ChartSyncBasics
import ChartSyncCore
import Glibc

/// The bytes of a chart tarball as libarchive reads them (from a file or from memory), with a cap
/// on what they may decompress to and a way to stop: every place that reads a chart goes through
/// it, so a small hostile tarball cannot cost minutes of CPU (libarchive decompresses whatever it
/// skips) and Ctrl-C stops the reading. When the cap is passed or the run is cancelled, libarchive
/// fails with a message saying so, which the caller reports with the tarball's name.
final class ChartInput {
    /// The most bytes the tar stream may decompress to: the limits' total plus room for headers.
    let budget: Int64
    private let cancellation: Cancellation?
    private let fd: Int32
    private let memory: UnsafeRawBufferPointer?
    private let buffer: UnsafeMutableRawBufferPointer
    private var offset = 0
    /// Why the input stopped libarchive, when it did (libarchive's own message may hide it).
    private(set) var stop: ArchiveError?

    /// The tarball's name in messages.
    private let name: String

    private init(fd: Int32, memory: UnsafeRawBufferPointer?, name: String, limits: ExtractionLimits, cancellation: Cancellation?) {
        self.name = name
        self.fd = fd
        self.memory = memory
        self.cancellation = cancellation
        budget = limits.maxTotalBytes + Int64(limits.maxEntries) * 1024 + (1 << 20)
        buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: memory == nil ? 64 * 1024 : 0, alignment: 16)
    }

    deinit {
        if fd >= 0 { close(fd) }
        buffer.deallocate()
    }

    /// A gzip'd-tar reader over the file at `path`; the input must live as long as the reader.
    static func open(path: String, limits: ExtractionLimits = .init(),
                     cancellation: Cancellation? = nil) throws(ArchiveError) -> (reader: OpaquePointer, input: ChartInput) {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .unreadable(path: path, message: "Failed to open '\(path)': \(SystemError.text())") }
        return try attach(ChartInput(fd: fd, memory: nil, name: path, limits: limits, cancellation: cancellation), path: path)
    }

    /// A gzip'd-tar reader over `bytes` (a chart inside a chart); `bytes` must outlive the reader.
    static func open(memory bytes: UnsafeRawBufferPointer, name: String, limits: ExtractionLimits = .init(),
                     cancellation: Cancellation? = nil) throws(ArchiveError) -> (reader: OpaquePointer, input: ChartInput) {
        try attach(ChartInput(fd: -1, memory: bytes, name: name, limits: limits, cancellation: cancellation), path: name)
    }

    private static func attach(_ input: ChartInput, path: String) throws(ArchiveError) -> (reader: OpaquePointer, input: ChartInput) {
        guard let reader = LibArchiveEntry.newChartReader() else { throw .unreadable(path: path, message: "out of memory") }
        let context = Unmanaged.passUnretained(input).toOpaque()
        let status = archive_read_open(reader, context, nil, { archive, context, block in
            guard let archive, let context, let block else { return -1 }
            return Unmanaged<ChartInput>.fromOpaque(context).takeUnretainedValue().next(archive, block)
        }, nil)
        guard status == ARCHIVE_OK else {
            let message = LibArchiveEntry.message(reader)
            archive_read_free(reader)
            throw .unreadable(path: path, message: message)
        }
        return (reader, input)
    }

    /// `error`, or why the input stopped libarchive when it did (what libarchive then reports,
    /// e.g. "Truncated input", is a consequence).
    func explain(_ error: ArchiveError) -> ArchiveError {
        stop ?? error
    }

    /// The next block of compressed bytes, or -1 (with libarchive's error set) to stop.
    private func next(_ archive: OpaquePointer, _ block: UnsafeMutablePointer<UnsafeRawPointer?>) -> Int {
        if cancellation?.isCancelled == true {
            stop = .interrupted
            carchive_set_error(archive, ECANCELED, "interrupted")
            return -1
        }
        if archive_filter_bytes(archive, 0) > budget {
            stop = .unreadable(path: name, message: "decompresses to more than \(budget >> 20) MiB (the limit for a chart)")
            carchive_set_error(archive, EFBIG, "decompresses to more than \(budget >> 20) MiB (the limit for a chart)")
            return -1
        }
        if let memory {
            // In slices, so that the budget is checked as the bytes decompress.
            let count = min(64 * 1024, memory.count - offset)
            block.pointee = memory.baseAddress.map { UnsafeRawPointer($0 + offset) }
            offset += count
            return count
        }
        while true {
            let count = read(fd, buffer.baseAddress, buffer.count)
            if count < 0 && errno == EINTR { continue }
            if count < 0 {
                carchive_set_error(archive, errno, SystemError.text())
                return -1
            }
            block.pointee = UnsafeRawPointer(buffer.baseAddress)
            return count
        }
    }
}
