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
/// A stream begun with `reset(sink:)` also gives each block to `sink` on the hashing thread once
/// it is hashed (e.g. writes it to a file, so that the producer goes on while the disk works).
/// One producer: `update`, `fill`, `reset` and `finalize` are called by one thread at a time.
public final class BackgroundHasher {
    private let ring: Ring
    /// The block being filled (`ring.tail`) and how many bytes it holds.
    private var fill = 0
    private var thread: pthread_t?

    /// A hasher with a ring of `blocks` blocks (at least 2) of `blockSize` bytes.
    public init(blockSize: Int = 1 << 20, blocks: Int = 4) {
        ring = Ring(blockSize: max(4096, blockSize), count: max(2, blocks))
    }

    deinit {
        if let thread {
            ring.stop()
            pthread_join(thread, nil)
        }
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
    /// call of `fill` or `update` (the hashing thread only reads them; the producer writes only
    /// into free space, and comes back to a handed-over block only after filling another one).
    public func fill(_ produce: (UnsafeMutableRawBufferPointer) -> Int) -> (bytes: UnsafeRawBufferPointer, count: Int) {
        let block = ring.block(ring.tail) + fill
        let count = min(produce(UnsafeMutableRawBufferPointer(start: block, count: ring.blockSize - fill)),
                        ring.blockSize - fill)
        guard count > 0 else { return (UnsafeRawBufferPointer(start: block, count: 0), count) }
        fill += count
        if fill == ring.blockSize { _ = handOver() }
        return (UnsafeRawBufferPointer(start: block, count: count), count)
    }

    /// Starts a new stream (the bytes given so far are forgotten: blocks not hashed yet are
    /// dropped, and none goes to the old stream's sink once this returns): its blocks also go to
    /// `sink`, on the hashing thread after they were hashed (on the caller's when there is no
    /// thread, as for a stream shorter than a block), in order, until the stream ends. When `sink`
    /// returns false, the stream's later blocks are dropped, `update` answers false and `finalize`
    /// nil.
    public func reset(sink: ((UnsafeRawBufferPointer) -> Bool)? = nil) {
        if thread != nil { ring.drain(dropping: true) }
        fill = 0
        ring.state = SHA256()
        ring.sink = sink
        ring.failed = false
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
        } else if fill > 0, !ring.failed, !ring.consume(UnsafeRawBufferPointer(start: ring.block(ring.tail), count: fill)) {
            ring.failed = true
        }
        let failed = ring.failed
        let digest = Digest(bytes: ring.state.finalize())
        reset()
        return failed ? nil : digest
    }

    /// Gives the block being filled to the hashing thread (starting it the first time; hashing
    /// here when no thread can be started) and waits for a free block; false when the stream's
    /// sink failed.
    private func handOver() -> Bool {
        if thread == nil {
            let box = Unmanaged.passRetained(ring)
            var id = pthread_t()
            if pthread_create(&id, nil, { raw in
                Unmanaged<Ring>.fromOpaque(raw!).takeRetainedValue().run()
                return nil
            }, box.toOpaque()) == 0 {
                thread = id
            } else {
                box.release()
                if !ring.failed && !ring.consume(UnsafeRawBufferPointer(start: ring.block(ring.tail), count: fill)) {
                    ring.failed = true
                }
                fill = 0
                return !ring.failed
            }
        }
        let ok = ring.push(count: fill)
        fill = 0
        return ok
    }

    /// The blocks and the hashing state shared by the producer and the hashing thread.
    /// Blocks `head ..< head + ready` (modulo `count`) belong to the hashing thread; the block at
    /// `tail` (= head + ready) to the producer. `state` and `sink` are touched by the hashing
    /// thread only while `ready > 0`, by the producer only while `ready == 0` (after `drain`); the
    /// mutex orders them. `failed` is read and written under the mutex while the thread may run.
    private final class Ring: @unchecked Sendable {
        let blockSize: Int
        let count: Int
        private let blocks: UnsafeMutablePointer<UnsafeMutableRawPointer?>
        private let lengths: UnsafeMutablePointer<Int>
        private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        /// Signalled when a block is ready to hash, or on stop.
        private let readyCondition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
        /// Signalled when a block was hashed.
        private let spaceCondition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
        private var head = 0
        private var ready = 0
        private var stopping = false
        /// The producer's block.
        private(set) var tail = 0
        var state = SHA256()
        /// Where the stream's blocks go after they were hashed.
        var sink: ((UnsafeRawBufferPointer) -> Bool)?
        /// Whether the sink failed: the stream's later blocks are dropped.
        var failed = false

        init(blockSize: Int, count: Int) {
            self.blockSize = blockSize
            self.count = count
            blocks = .allocate(capacity: count)
            blocks.initialize(repeating: nil, count: count)
            lengths = .allocate(capacity: count)
            lengths.initialize(repeating: 0, count: count)
            pthread_mutex_init(mutex, nil)
            pthread_cond_init(readyCondition, nil)
            pthread_cond_init(spaceCondition, nil)
        }

        deinit {
            for i in 0..<count { blocks[i].map { $0.deallocate() } }
            blocks.deallocate()
            lengths.deallocate()
            pthread_mutex_destroy(mutex)
            pthread_cond_destroy(readyCondition)
            pthread_cond_destroy(spaceCondition)
            mutex.deallocate()
            readyCondition.deallocate()
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

        /// Hashes `block` into the stream and gives it to the sink; false when the sink fails.
        func consume(_ block: UnsafeRawBufferPointer) -> Bool {
            state.update(bufferPointer: block)
            return sink?(block) ?? true
        }

        /// Hands the producer's block (`count` bytes) over and waits until the next one is free;
        /// false when the stream's sink failed.
        func push(count bytes: Int) -> Bool {
            pthread_mutex_lock(mutex)
            lengths[tail] = bytes
            ready += 1
            tail = (tail + 1) % count
            pthread_cond_signal(readyCondition)
            while ready == count { pthread_cond_wait(spaceCondition, mutex) }
            let ok = !failed
            pthread_mutex_unlock(mutex)
            return ok
        }

        /// Waits until every block handed over was hashed (or, `dropping`, dropped unhashed).
        func drain(dropping: Bool = false) {
            pthread_mutex_lock(mutex)
            if dropping { failed = true }
            while ready > 0 { pthread_cond_wait(spaceCondition, mutex) }
            pthread_mutex_unlock(mutex)
        }

        /// Ends the hashing thread; the blocks handed over and not hashed yet are dropped.
        func stop() {
            pthread_mutex_lock(mutex)
            failed = true
            stopping = true
            pthread_cond_signal(readyCondition)
            pthread_mutex_unlock(mutex)
        }

        /// The hashing thread's loop.
        func run() {
            pthread_mutex_lock(mutex)
            while true {
                while ready == 0 && !stopping { pthread_cond_wait(readyCondition, mutex) }
                if ready == 0 { break }
                let i = head
                let length = lengths[i]
                let block = blocks[i]!
                // After a sink failed, the stream's later blocks are dropped.
                let dropped = failed
                pthread_mutex_unlock(mutex)
                let ok = dropped || consume(UnsafeRawBufferPointer(start: block, count: length))
                pthread_mutex_lock(mutex)
                if !ok { failed = true }
                head = (head + 1) % count
                ready -= 1
                pthread_cond_signal(spaceCondition)
            }
            pthread_mutex_unlock(mutex)
        }
    }
}
