import Glibc

/// Carries a byte stream from the thread producing it to a thread of its own, in blocks: the
/// producer's bytes are gathered into a ring of `blocks` blocks of `blockSize` bytes (at most
/// that much memory in flight); each full block is first given to `flush` on the producer's thread,
/// then handed to the ring's thread, which gives it to `consume` (hashes it, writes it to a file)
/// while the producer goes on. The producer waits while every block is still in flight
/// (back-pressure). A stream shorter than one block is consumed on the producer's thread by
/// `finish`, and no thread is ever started for it. Once `consume` returned false, the blocks after
/// it are dropped, and `append`, `fill` and `finish` fail until `reset`.
/// One producer: `append`, `fill`, `finish` and `reset` are called by one thread at a time; what
/// `consume` works on is the producer's again once `finish` or `reset` returned.
public final class BlockRing {
    private let ring: Ring
    /// The block being filled (`ring.tail`) and how many bytes it holds.
    private var filled = 0
    private var thread: pthread_t?

    /// A ring of `blocks` blocks (at least 2) of `blockSize` bytes (at least 4096) whose thread gives
    /// each block to `consume`; false stops the stream.
    public init(blockSize: Int, blocks: Int, consume: @escaping @Sendable (UnsafeRawBufferPointer) -> Bool) {
        ring = Ring(blockSize: max(4096, blockSize), count: max(2, blocks), consume: consume)
    }

    deinit {
        if let thread {
            ring.stop()
            pthread_join(thread, nil)
        }
    }

    /// Adds `bytes` to the stream, giving every block filled to `flush` before it is handed over;
    /// false when `flush` or `consume` returned false (the stream should then be reset).
    public func append(_ bytes: UnsafeRawBufferPointer, flush: (UnsafeRawBufferPointer) -> Bool = { _ in true }) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let block = ring.block(ring.tail)
            let count = min(ring.blockSize - filled, bytes.count - offset)
            (block + filled).copyMemory(from: bytes.baseAddress! + offset, byteCount: count)
            filled += count
            offset += count
            if filled == ring.blockSize {
                guard flush(UnsafeRawBufferPointer(start: block, count: filled)), handOver() else { return false }
            }
        }
        return true
    }

    /// Adds the bytes `produce` puts straight into the block being filled (no copy, unlike
    /// `append`): it gets the block's free space and returns how many bytes it put there, as
    /// read(2) does (0 or -1 are returned as they are, nothing added). A block filled goes to
    /// `flush` and is then handed over. Nil when `flush` or `consume` returned false.
    public func fill(_ produce: (UnsafeMutableRawBufferPointer) -> Int,
                     flush: (UnsafeRawBufferPointer) -> Bool = { _ in true }) -> Int? {
        let block = ring.block(ring.tail)
        let count = produce(UnsafeMutableRawBufferPointer(start: block + filled, count: ring.blockSize - filled))
        guard count > 0 else { return count }
        filled += count
        if filled == ring.blockSize {
            guard flush(UnsafeRawBufferPointer(start: block, count: filled)), handOver() else { return nil }
        }
        return count
    }

    /// Gives the last block (not full) to `flush` and `consume` and waits until every block was
    /// consumed; false when `flush` or `consume` returned false. A new stream starts.
    public func finish(flush: (UnsafeRawBufferPointer) -> Bool = { _ in true }) -> Bool {
        let last = UnsafeRawBufferPointer(start: ring.block(ring.tail), count: filled)
        var ok = filled == 0 || flush(last)
        if thread != nil {
            if ok && filled > 0 { ok = ring.push(count: filled) }
            ok = ring.drain() && ok
        } else if ok && filled > 0 {
            ok = ring.consumeHere(last)
        }
        filled = 0
        ring.restart()
        return ok
    }

    /// Drops what was given and not consumed yet (waiting for the block being consumed), and starts a new stream.
    public func reset() {
        if thread != nil { _ = ring.drain() }
        filled = 0
        ring.restart()
    }

    /// Gives the block being filled to the ring's thread (starting it the first time; consuming it
    /// here when no thread can be started) and waits for a free block; false when `consume` failed.
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
                let ok = ring.consumeHere(UnsafeRawBufferPointer(start: ring.block(ring.tail), count: filled))
                filled = 0
                return ok
            }
        }
        let ok = ring.push(count: filled)
        filled = 0
        return ok
    }

    /// The blocks shared by the producer and the ring's thread. Blocks `head ..< head + ready`
    /// (modulo `count`) belong to the ring's thread; the block at `tail` (= head + ready) to the
    /// producer. `failed` is written under the mutex (or by the producer when no thread runs).
    private final class Ring: @unchecked Sendable {
        let blockSize: Int
        let count: Int
        let consume: @Sendable (UnsafeRawBufferPointer) -> Bool
        private let blocks: UnsafeMutablePointer<UnsafeMutableRawPointer?>
        private let lengths: UnsafeMutablePointer<Int>
        private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        /// Signalled when a block is ready to consume, or on stop.
        private let readyCondition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
        /// Signalled when a block was consumed.
        private let spaceCondition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
        private var head = 0
        private var ready = 0
        private var stopping = false
        /// Whether `consume` returned false in this stream (the blocks after it are dropped).
        private var failed = false
        /// The producer's block.
        private(set) var tail = 0

        init(blockSize: Int, count: Int, consume: @escaping @Sendable (UnsafeRawBufferPointer) -> Bool) {
            self.blockSize = blockSize
            self.count = count
            self.consume = consume
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
            let block = UnsafeMutableRawPointer.allocate(byteCount: blockSize, alignment: 64)
            blocks[i] = block
            return block
        }

        /// Hands the producer's block (`count` bytes) over and waits until the next one is free;
        /// false when `consume` failed.
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

        /// Waits until every block handed over was consumed; false when `consume` failed.
        func drain() -> Bool {
            pthread_mutex_lock(mutex)
            while ready > 0 { pthread_cond_wait(spaceCondition, mutex) }
            let ok = !failed
            pthread_mutex_unlock(mutex)
            return ok
        }

        /// Consumes a block on the producer's thread (no thread runs, or none is consuming after
        /// `drain`); false when `consume` failed, now or before.
        func consumeHere(_ block: UnsafeRawBufferPointer) -> Bool {
            pthread_mutex_lock(mutex)
            let ok = !failed && consume(block)
            failed = !ok
            pthread_mutex_unlock(mutex)
            return ok
        }

        /// Starts a new stream (after `drain`).
        func restart() {
            pthread_mutex_lock(mutex)
            failed = false
            pthread_mutex_unlock(mutex)
        }

        /// Ends the ring's thread once the blocks handed over are consumed.
        func stop() {
            pthread_mutex_lock(mutex)
            stopping = true
            pthread_cond_signal(readyCondition)
            pthread_mutex_unlock(mutex)
        }

        /// The ring's thread's loop.
        func run() {
            pthread_mutex_lock(mutex)
            while true {
                while ready == 0 && !stopping { pthread_cond_wait(readyCondition, mutex) }
                if ready == 0 { break }
                let i = head
                let block = UnsafeRawBufferPointer(start: blocks[i]!, count: lengths[i])
                let skip = failed
                pthread_mutex_unlock(mutex)
                let ok = skip || consume(block)
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
