import ChartSyncCore
import struct Crypto.SHA256
import Glibc

/// The SHA-256 of a byte stream computed on a thread of its own, so that the thread producing the
/// bytes (a libcurl write callback) goes on receiving while earlier bytes are hashed.
///
/// `update` copies the bytes into a ring of `blocks` blocks of `blockSize` bytes (at most that
/// much memory in flight); each full block is first given to `flush` on the caller's thread
/// (e.g. written to a file: one large write instead of many small ones, and the hash is then of
/// exactly the bytes written), then handed to the hashing thread. `update` waits while every
/// block is still being hashed (back-pressure). A stream shorter than one block is hashed on the
/// caller's thread by `finalize`, and no thread is ever started for it.
/// A stream begun with `reset(sink:)` also gives each block, in order, to `sink` on a second
/// thread of its own (e.g. writes it to a file), while later blocks are hashed: the producer, the
/// hashing and the sink each run at their own pace, and a block is reused once both are done
/// with it.
/// One producer: `update`, `fill`, `reset` and `finalize` are called by one thread at a time.
public final class BackgroundHasher {
    private let ring: Ring
    /// The block being filled (`ring.tail`) and how many bytes it holds.
    private var fill = 0
    private var thread: pthread_t?
    private var sinkThread: pthread_t?

    /// A hasher with a ring of `blocks` blocks (at least 2) of `blockSize` bytes.
    public init(blockSize: Int = 1 << 20, blocks: Int = 4) {
        ring = Ring(blockSize: max(4096, blockSize), count: max(2, blocks))
    }

    deinit {
        guard thread != nil || sinkThread != nil else { return }
        ring.stop()
        if let thread { pthread_join(thread, nil) }
        if let sinkThread { pthread_join(sinkThread, nil) }
    }

    /// Adds `bytes` to the stream, giving every block filled to `flush` before it is hashed; false
    /// when `flush` returned false (the block is then dropped, and the stream should be reset) or
    /// the stream's sink failed.
    @discardableResult
    public func update(_ bytes: UnsafeRawBufferPointer,
                       flush: (UnsafeRawBufferPointer) -> Bool = { _ in true }) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let block = ring.block(ring.tail)
            let count = min(ring.blockSize - fill, bytes.count - offset)
            (block + fill).copyMemory(from: bytes.baseAddress! + offset, byteCount: count)
            fill += count
            offset += count
            if fill == ring.blockSize {
                guard flush(UnsafeRawBufferPointer(start: block, count: fill)), handOver() else { return false }
            }
        }
        return true
    }

    /// Adds the bytes `produce` writes straight into the free space of the block being filled (no
    /// copy: e.g. a read(2) into it), and returns them: `produce` returns how many it wrote (a
    /// negative count or 0 adds nothing, and is returned as the count). A block filled this way is
    /// handed over without going to any `flush`. The returned bytes stay as they are until the next
    /// call of `fill` or `update` (the threads only read them; the producer writes only into free
    /// space, and comes back to a handed-over block only after filling another one).
    public func fill(_ produce: (UnsafeMutableRawBufferPointer) -> Int) -> (bytes: UnsafeRawBufferPointer, count: Int) {
        let block = ring.block(ring.tail) + fill
        let count = min(produce(UnsafeMutableRawBufferPointer(start: block, count: ring.blockSize - fill)),
                        ring.blockSize - fill)
        guard count > 0 else { return (UnsafeRawBufferPointer(start: block, count: 0), count) }
        fill += count
        if fill == ring.blockSize { _ = handOver() }
        return (UnsafeRawBufferPointer(start: block, count: count), count)
    }

    /// Starts a new stream (the bytes given so far are forgotten: blocks not hashed or sunk yet are
    /// dropped, and none goes to the old stream's sink once this returns). Its blocks also go to
    /// `sink`, in order, on a thread of its own (on the caller's when there is none, as for a stream
    /// shorter than a block), until the stream ends. When `sink` returns false, the stream's later
    /// blocks are dropped, `update` answers false and `finalize` nil.
    public func reset(sink: ((UnsafeRawBufferPointer) -> Bool)? = nil) {
        if thread != nil { ring.drain(dropping: true) }
        fill = 0
        ring.begin(sink: sink)
    }

    /// The SHA-256 of the bytes given since the start or the last `reset`, after the last block
    /// (not full) went to `flush` and every block to the stream's sink; nil when `flush` or the
    /// sink returned false. The hasher then starts a new stream (without a sink).
    public func finalize(flush: (UnsafeRawBufferPointer) -> Bool = { _ in true }) -> Digest? {
        if fill > 0 && !flush(UnsafeRawBufferPointer(start: ring.block(ring.tail), count: fill)) {
            reset()
            return nil
        }
        if thread != nil {
            if fill > 0 { _ = handOver() }
            ring.drain()
        } else if fill > 0 {
            ring.consume(UnsafeRawBufferPointer(start: ring.block(ring.tail), count: fill))
        }
        let failed = ring.failed
        let digest = Digest(bytes: ring.state.finalize())
        reset()
        return failed ? nil : digest
    }

    /// Gives the block being filled to the threads (starting them the first time; hashing and
    /// sinking here when the hashing thread cannot be started, sinking here when the sink's cannot)
    /// and waits for a free block; false when the stream's sink failed.
    private func handOver() -> Bool {
        let block = UnsafeRawBufferPointer(start: ring.block(ring.tail), count: fill)
        let first = ring.streamBlocks == 0
        ring.streamBlocks += 1
        if thread == nil {
            thread = Self.start(ring, Ring.hash)
            if thread == nil {
                ring.consume(block)
                fill = 0
                return !ring.failed
            }
        }
        // The sink moves to its thread only with a stream's first block (none of it went to the sink yet).
        if first && ring.sink != nil {
            if sinkThread == nil { sinkThread = Self.start(ring, Ring.sinkBlocks) }
            ring.sinkThreaded = sinkThread != nil
        }
        // Without a thread for the sink, it runs here, before the block is hashed.
        if !ring.sinkThreaded, let sink = ring.sink, !ring.failed, !sink(block) { ring.fail() }
        let ok = ring.push(count: fill)
        fill = 0
        return ok
    }

    /// Starts a thread running `body` on `ring`; nil when none can be started.
    private static func start(_ ring: Ring, _ body: @escaping (Ring) -> () -> Void) -> pthread_t? {
        final class Start {
            let run: () -> Void
            init(_ run: @escaping () -> Void) { self.run = run }
        }
        let box = Unmanaged.passRetained(Start(body(ring)))
        var id = pthread_t()
        guard pthread_create(&id, nil, { raw in
            Unmanaged<Start>.fromOpaque(raw!).takeRetainedValue().run()
            return nil
        }, box.toOpaque()) == 0 else {
            box.release()
            return nil
        }
        return id
    }

    /// The blocks and the hashing state shared by the producer, the hashing thread and the sink's.
    /// Blocks are handed over in order (`pushed` of them so far); the hashing thread has taken
    /// `hashed` of them, the sink's `sunk`; a block is free again once both passed it, and the
    /// producer's block is `tail` (= pushed modulo `count`). `state`, `sink` and `sinkThreaded`
    /// are touched by the threads only while blocks are in the ring, by the producer only while
    /// none is (after `drain`, or before its first hand-over of a stream); the mutex orders them.
    /// `streamBlocks` is the producer's.
    /// `failed` is read and written under the mutex while a thread may run.
    private final class Ring: @unchecked Sendable {
        let blockSize: Int
        let count: Int
        private let blocks: UnsafeMutablePointer<UnsafeMutableRawPointer?>
        private let lengths: UnsafeMutablePointer<Int>
        private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        /// Signalled when a block is ready to hash, or on stop.
        private let readyCondition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
        /// Signalled when a block is ready for the sink, or on stop.
        private let sinkCondition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
        /// Signalled when a block was hashed or sunk.
        private let spaceCondition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
        private var pushed = 0
        private var hashed = 0
        private var sunk = 0
        private var stopping = false
        /// The producer's block.
        var tail: Int { pushed % count }
        var state = SHA256()
        /// Where the stream's blocks go.
        private(set) var sink: ((UnsafeRawBufferPointer) -> Bool)?
        /// Whether the sink runs on its own thread (else on the producer's, before a block is handed over).
        var sinkThreaded = false
        /// Whether the sink failed (or the stream was abandoned): the stream's later blocks are dropped.
        var failed = false
        /// The blocks of the stream handed over (or hashed here) so far.
        var streamBlocks = 0

        init(blockSize: Int, count: Int) {
            self.blockSize = blockSize
            self.count = count
            blocks = .allocate(capacity: count)
            blocks.initialize(repeating: nil, count: count)
            lengths = .allocate(capacity: count)
            lengths.initialize(repeating: 0, count: count)
            pthread_mutex_init(mutex, nil)
            pthread_cond_init(readyCondition, nil)
            pthread_cond_init(sinkCondition, nil)
            pthread_cond_init(spaceCondition, nil)
        }

        deinit {
            for i in 0..<count { blocks[i].map { $0.deallocate() } }
            blocks.deallocate()
            lengths.deallocate()
            pthread_mutex_destroy(mutex)
            pthread_cond_destroy(readyCondition)
            pthread_cond_destroy(sinkCondition)
            pthread_cond_destroy(spaceCondition)
            mutex.deallocate()
            readyCondition.deallocate()
            sinkCondition.deallocate()
            spaceCondition.deallocate()
        }

        /// Block `i`, allocated on first use (by the producer, which owns it then).
        func block(_ i: Int) -> UnsafeMutableRawPointer {
            if let block = blocks[i] { return block }
            // Page-aligned: a block can be written around the page cache (see DirectWrite).
            let block = UnsafeMutableRawPointer.allocate(byteCount: blockSize, alignment: 4096)
            blocks[i] = block
            return block
        }

        /// A new stream (the ring is empty): its state, its sink.
        func begin(sink: ((UnsafeRawBufferPointer) -> Bool)?) {
            state = SHA256()
            self.sink = sink
            sinkThreaded = false
            failed = false
            streamBlocks = 0
        }

        /// Records that the sink failed on the producer's thread.
        func fail() {
            pthread_mutex_lock(mutex)
            failed = true
            pthread_mutex_unlock(mutex)
        }

        /// Hashes `block` into the stream and gives it to the sink, on the producer's thread (no
        /// thread runs), unless the sink failed before.
        func consume(_ block: UnsafeRawBufferPointer) {
            guard !failed else { return }
            state.update(bufferPointer: block)
            if let sink, !sink(block) { failed = true }
        }

        /// Hands the producer's block (`count` bytes) over and waits until the next one is free;
        /// false when the stream's sink failed.
        func push(count bytes: Int) -> Bool {
            pthread_mutex_lock(mutex)
            lengths[tail] = bytes
            pushed += 1
            pthread_cond_signal(readyCondition)
            if sinkThreaded { pthread_cond_signal(sinkCondition) }
            while pushed - min(hashed, sunk) == count { pthread_cond_wait(spaceCondition, mutex) }
            let ok = !failed
            pthread_mutex_unlock(mutex)
            return ok
        }

        /// Waits until every block handed over was hashed and sunk (or, `dropping`, dropped).
        func drain(dropping: Bool = false) {
            pthread_mutex_lock(mutex)
            if dropping { failed = true }
            while hashed < pushed || sunk < pushed { pthread_cond_wait(spaceCondition, mutex) }
            pthread_mutex_unlock(mutex)
        }

        /// Ends the threads; the blocks handed over and not hashed or sunk yet are dropped.
        func stop() {
            pthread_mutex_lock(mutex)
            failed = true
            stopping = true
            pthread_cond_signal(readyCondition)
            pthread_cond_signal(sinkCondition)
            pthread_mutex_unlock(mutex)
        }

        /// The hashing thread's loop. Without a sink thread, a block hashed counts as sunk too.
        func hash() {
            pthread_mutex_lock(mutex)
            while true {
                while hashed == pushed && !stopping { pthread_cond_wait(readyCondition, mutex) }
                if hashed == pushed { break }
                let i = hashed % count
                let block = UnsafeRawBufferPointer(start: blocks[i]!, count: lengths[i])
                let dropped = failed
                pthread_mutex_unlock(mutex)
                if !dropped { state.update(bufferPointer: block) }
                pthread_mutex_lock(mutex)
                hashed += 1
                if !sinkThreaded { sunk = hashed }
                pthread_cond_broadcast(spaceCondition)
            }
            pthread_mutex_unlock(mutex)
        }

        /// The sink thread's loop: the blocks of streams whose sink runs here, in order.
        func sinkBlocks() {
            pthread_mutex_lock(mutex)
            while true {
                while (!sinkThreaded || sunk == pushed) && !stopping { pthread_cond_wait(sinkCondition, mutex) }
                if !sinkThreaded || sunk == pushed { break }
                let i = sunk % count
                let block = UnsafeRawBufferPointer(start: blocks[i]!, count: lengths[i])
                let dropped = failed
                let sink = self.sink
                pthread_mutex_unlock(mutex)
                let ok = dropped || sink?(block) != false
                pthread_mutex_lock(mutex)
                if !ok { failed = true }
                sunk += 1
                pthread_cond_broadcast(spaceCondition)
            }
            pthread_mutex_unlock(mutex)
        }
    }
}
