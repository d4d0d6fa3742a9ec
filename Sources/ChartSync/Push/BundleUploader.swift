import ChartSyncArchive
import ChartSyncBasics
import ChartSyncCore
import ChartSyncTransport

/// `push BUNDLE`'s second pass: the missing blobs sent as their entries stream by, up to `jobs`
/// blobs at once, while the bundle is read once, in order, on the reader's thread.
///
/// The reader cuts each pending entry into chunks of ``chunkSize`` and hands them to the worker
/// thread that took the blob; the worker sends them (`PATCH`, the session opened as the blob
/// begins) and closes the upload (`PUT ?digest=`) only once the reader has proven the entry
/// (``end(_:)``). A blob of up to one chunk goes in one `PUT`, sent once proven. The reader does
/// not wait for an upload: it goes on with the next entry while earlier blobs are still being
/// sent, and waits only when `jobs` blobs are on their way or every chunk buffer is taken. An
/// entry that is not proven is never closed (``finish()`` abandons it; the registry expires the
/// session). Memory: at most `jobs + 1` chunks, whatever the blobs' sizes.
final class BundleUploader: BundleEntryConsumer, @unchecked Sendable {
    /// Blobs are cut into chunks of this size as they stream: one `PUT` for a blob up to it,
    /// `PATCH`es of it above (each chunk in memory until sent, so that a failed one can be sent
    /// again from the offset the registry reports).
    static let chunkSize = 8 << 20

    let pending: [String: BundlePush.Pending]
    let client: RegistryClient
    let registry: String
    let cancellation: Cancellation
    let onEvent: ChartSyncEventHandler?

    /// What happened: uploads, failures, the repositories each entry reached, why it stopped.
    struct Results {
        var counts = Pusher.BlobCounts()
        /// The repositories each entry reached, by bundle path.
        var done: [String: [String]] = [:]
        /// Why the stream was stopped.
        var stop: PushError?
    }

    /// One blob on its way, from its entry's first byte to its upload closed (or abandoned).
    private final class Job: @unchecked Sendable {
        enum Message {
            /// The next chunk; more follow.
            case chunk([UInt8])
            /// The last bytes (none when the reader kept none): the entry was proven, close the upload.
            case last([UInt8], held: Bool)
            /// The entry was not proven, or the pass stopped: leave the upload unclosed.
            case abandon
        }

        let path: String
        let item: BundlePush.Pending
        /// The reader's messages not yet taken (under the uploader's lock).
        var messages: [Message] = []
        /// No target is left (under the lock): the reader keeps none of its bytes.
        var dead = false
        /// The worker's: the upload to each target, and the targets that failed.
        var streams: [(repository: String, upload: BlobStreamUpload)] = []
        var failed: Set<String> = []

        init(path: String, item: BundlePush.Pending) {
            self.path = path
            self.item = item
        }

        var chunked: Bool { item.blob.size > Int64(BundleUploader.chunkSize) }
    }

    private let lock = ConditionLock()
    // Under `lock`:
    private var queue: [Job] = []
    private var inFlight = 0
    private var chunksHeld = 0
    private var closing = false
    private var shared = Results()

    /// The worker threads; none: every blob is sent on the reader's thread, one at a time.
    private var workers = WorkerPool.Threads.none
    /// Blobs on their way at most, and chunk buffers at most.
    private var capacity = 0
    private var budget = 1

    // The reader's own:
    private var current: Job?
    private var buffer: [UInt8] = []
    private var holding = false
    private var received = 0

    /// Starts up to `jobs` workers (no more than there are blobs to send).
    init(_ pending: [String: BundlePush.Pending], jobs: Int, client: RegistryClient, registry: String,
         cancellation: Cancellation, onEvent: ChartSyncEventHandler?) {
        self.pending = pending
        self.client = client
        self.registry = registry
        self.cancellation = cancellation
        self.onEvent = onEvent
        workers = WorkerPool.start(count: min(max(1, jobs), pending.count)) { [self] _ in work() }
        lock.withLock {
            capacity = workers.started
            budget = workers.started + 1
            lock.broadcast()
        }
    }

    /// Abandons the entry begun and not proven, waits for every blob handed over, and returns what happened.
    func finish() -> Results {
        if let job = current {
            current = nil
            deliver(job, .abandon)
        }
        release()
        lock.withLock {
            closing = true
            lock.broadcast()
        }
        workers.join()
        return lock.withLock { shared }
    }

    // MARK: - The reader's side

    func begin(_ path: String, size: Int64) -> Bool {
        guard let item = pending[path] else { return false }
        let job = Job(path: path, item: item)
        lock.withLock {
            while inFlight >= capacity && capacity > 0 { lock.wait() }
            inFlight += 1
            if capacity > 0 { queue.append(job) }
            lock.broadcast()
        }
        current = job
        received = 0
        if capacity == 0 { open(job) }
        return true
    }

    func data(_ block: UnsafeRawBufferPointer) -> Bool {
        guard !cancellation.isCancelled else { return stopped(.interrupted) }
        guard let job = current else { return true }
        let size = Int(job.item.blob.size)
        var rest = block
        while !rest.isEmpty {
            guard holding || take(job) else {
                // Every target failed: nothing of it is sent; the entry is still proven by the reader.
                received += rest.count
                return lock.withLock { shared.stop == nil }
            }
            let count = min(Self.chunkSize - buffer.count, rest.count)
            buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: rest[..<count]))
            rest = UnsafeRawBufferPointer(rebasing: rest[count...])
            received += count
            // A full chunk goes now, unless it is the entry's last bytes: those wait for the proof.
            if buffer.count == Self.chunkSize && received < size {
                let chunk = buffer
                buffer = []
                holding = false
                deliver(job, .chunk(chunk))
            }
        }
        return lock.withLock { shared.stop == nil }
    }

    func end(_ path: String) -> Bool {
        guard let job = current, job.path == path else { return true }
        current = nil
        let last = buffer
        let held = holding
        buffer = []
        holding = false
        deliver(job, .last(last, held: held))
        return lock.withLock { shared.stop == nil }
    }

    /// Takes a chunk buffer for `job` (waiting while all are taken); false when `job` has no target left.
    private func take(_ job: Job) -> Bool {
        let taken = lock.withLock {
            while !job.dead && chunksHeld >= budget && capacity > 0 { lock.wait() }
            if job.dead { return false }
            chunksHeld += 1
            return true
        }
        guard taken else { return false }
        buffer.reserveCapacity(min(Self.chunkSize, Int(job.item.blob.size) - received))
        holding = true
        return true
    }

    /// Gives back the reader's chunk buffer, if it holds one.
    private func release() {
        guard holding else { return }
        holding = false
        buffer = []
        recycle()
    }

    /// Hands `message` to the worker that has `job` (or, without workers, acts on it here).
    private func deliver(_ job: Job, _ message: Job.Message) {
        guard capacity > 0 else {
            if handle(job, message) { lock.withLock { inFlight -= 1 } }
            return
        }
        lock.withLock {
            job.messages.append(message)
            lock.broadcast()
        }
    }

    private func stopped(_ reason: PushError) -> Bool {
        lock.withLock { if shared.stop == nil { shared.stop = reason } }
        return false
    }

    // MARK: - The workers' side

    /// A worker's loop: the next blob begun, its messages until the last.
    private func work() {
        while let job = nextJob() {
            open(job)
            while true {
                let message = lock.withLock {
                    while job.messages.isEmpty { lock.wait() }
                    return job.messages.removeFirst()
                }
                if handle(job, message) { break }
            }
            lock.withLock {
                inFlight -= 1
                lock.broadcast()
            }
        }
    }

    private func nextJob() -> Job? {
        lock.withLock {
            while queue.isEmpty && !closing { lock.wait() }
            return queue.isEmpty ? nil : queue.removeFirst()
        }
    }

    /// Opens the upload of a chunked blob to each target (its first chunk is still being read).
    private func open(_ job: Job) {
        guard job.chunked else { return }
        let blob = job.item.blob
        for repository in job.item.uploads {
            do throws(RegistryError) {
                let upload = try client.streamingUpload(registry: registry, repository: repository, digest: blob.digest, size: blob.size)
                job.streams.append((repository, upload))
                try upload.start()
            } catch {
                fail(job, repository, error)
            }
        }
    }

    /// Acts on one message; true when the blob is done with (closed or abandoned).
    private func handle(_ job: Job, _ message: Job.Message) -> Bool {
        switch message {
        case .chunk(let bytes):
            for (repository, upload) in job.streams where !job.failed.contains(repository) {
                do throws(RegistryError) {
                    try upload.append(bytes)
                } catch {
                    fail(job, repository, error)
                }
            }
            recycle()
            return false
        case .last(let bytes, let held):
            close(job, bytes)
            if held { recycle() }
            return true
        case .abandon:
            return true
        }
    }

    /// Closes the upload of a proven entry: the last chunk and `PUT ?digest=`, or one `PUT` of it whole.
    private func close(_ job: Job, _ last: [UInt8]) {
        let blob = job.item.blob
        var reached: [String] = []
        if job.chunked {
            for (repository, upload) in job.streams where !job.failed.contains(repository) {
                do throws(RegistryError) {
                    let sent = try upload.finish(last)
                    reached.append(repository)
                    lock.withLock { shared.counts.add(.uploaded(bytes: sent)) }
                    onEvent?(.blobPushed(digest: blob.digest, repository: repository, outcome: .uploaded(bytes: blob.size)))
                } catch {
                    fail(job, repository, error)
                }
            }
        } else {
            for repository in job.item.uploads where !job.failed.contains(repository) {
                guard !cancellation.isCancelled else { _ = stopped(.interrupted); break }
                do throws(RegistryError) {
                    let outcome = try client.pushBlob(registry: registry, repository: repository, digest: blob.digest, content: .bytes(last))
                    reached.append(repository)
                    lock.withLock { shared.counts.add(outcome) }
                    onEvent?(.blobPushed(digest: blob.digest, repository: repository, outcome: outcome))
                } catch {
                    fail(job, repository, error)
                }
            }
        }
        if !reached.isEmpty { lock.withLock { shared.done[job.path] = reached } }
    }

    /// Records that `repository` failed for `job` (an interruption stops the pass); the reader
    /// keeps no more of its bytes once no target is left.
    private func fail(_ job: Job, _ repository: String, _ error: RegistryError) {
        job.failed.insert(repository)
        let blob = job.item.blob
        lock.withLock {
            if case .cancelled = error {
                if shared.stop == nil { shared.stop = .interrupted }
            } else {
                shared.counts.failures.append(("\(blob.subject): blob \(blob.digest) to \(registry)/\(repository)", error))
            }
            if job.item.uploads.allSatisfy(job.failed.contains) {
                job.dead = true
                lock.broadcast()
            }
        }
    }

    /// Counts a chunk buffer as given back (sent, or dropped).
    private func recycle() {
        lock.withLock {
            chunksHeld -= 1
            lock.broadcast()
        }
    }
}
