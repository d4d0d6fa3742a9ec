import Glibc

/// Carries a byte stream from the thread producing it to threads of their own, in blocks: the
/// producer's bytes are gathered into a ring of `blocks` blocks of `blockSize` bytes (at most
/// that much memory in flight); each full block is first given to `flush` on the producer's thread,
/// then handed to the ring's stages, each a thread of its own giving every block to its closure in
/// turn (hash it; write it to a file, then hash it on the next stage) while the producer goes on.
/// The producer waits while every block is still in flight (back-pressure). A stream shorter than
/// one block goes through the stages on the producer's thread in `finish`, and no thread is ever
/// started for it. Once a stage returned false, the stages drop every block they have not done
/// yet, and `append`, `fill` and `finish` fail until `reset`.
/// One producer: `append`, `fill`, `finish` and `reset` are called by one thread at a time; what
/// the stages work on is the producer's again once `finish` or `reset` returned.
public final class BlockRing {
    /// What a stage does with a block; false stops the stream.
    public typealias Stage = @Sendable (UnsafeRawBufferPointer) -> Bool

    private let ring: Ring
    /// The block being filled (`ring.tail`) and how many bytes it holds.
    private var filled = 0
    /// The stages' threads, once started; empty when the stages run on the producer's thread.
    private var threads: [pthread_t] = []
    private var started = false
    /// Whether a block of this stream went to the stages' threads.
    private var handedOver = false

    /// A ring of `blocks` blocks (at least 2) of `blockSize` bytes (at least 4096) whose thread gives
    /// each block to `consume`.
    public convenience init(blockSize: Int, blocks: Int, consume: @escaping Stage) {
        self.init(blockSize: blockSize, blocks: blocks, stages: [consume])
    }

    /// A ring of `blocks` blocks (at least 2) of `blockSize` bytes (at least 4096) whose blocks go
    /// through `stages` (at least one), in order, each on a thread of its own.
    public init(blockSize: Int, blocks: Int, stages: [Stage]) {
        precondition(!stages.isEmpty, "a BlockRing needs a stage")
        ring = Ring(blockSize: max(4096, blockSize), count: max(2, blocks), stages: stages)
    }

    deinit {
        guard !threads.isEmpty else { return }
        _ = ring.drain()
        ring.stop()
        for thread in threads { pthread_join(thread, nil) }
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
    /// `flush` and is then handed over. Nil when `flush` or a stage returned false.
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

    /// Gives the last block (not full) to `flush` and the stages and waits until every block went
    /// through them; false when `flush` or a stage returned false. A new stream starts. A stream
    /// shorter than one block goes through the stages on this thread (no thread wakes up for it).
    public func finish(flush: (UnsafeRawBufferPointer) -> Bool = { _ in true }) -> Bool {
        let last = UnsafeRawBufferPointer(start: ring.block(ring.tail), count: filled)
        var ok = filled == 0 || flush(last)
        if handedOver {
            if ok && filled > 0 { ok = ring.push(count: filled) }
            ok = ring.drain() && ok
        } else if ok && filled > 0 {
            ok = ring.consumeHere(last)
        }
        filled = 0
        handedOver = false
        ring.restart()
        return ok
    }

    /// Waits until the blocks handed over went through the stages, forgets the block being
    /// filled, and starts a new stream.
    public func reset() {
        if handedOver { _ = ring.drain() }
        filled = 0
        handedOver = false
        ring.restart()
    }

    /// Gives the block being filled to the stages' threads (starting them the first time; going
    /// through the stages here when they cannot be started) and waits for a free block; false when
    /// a stage failed.
    private func handOver() -> Bool {
        if !started {
            started = true
            startThreads()
        }
        guard !threads.isEmpty else {
            let ok = ring.consumeHere(UnsafeRawBufferPointer(start: ring.block(ring.tail), count: filled))
            filled = 0
            return ok
        }
        handedOver = true
        let ok = ring.push(count: filled)
        filled = 0
        return ok
    }

    /// Starts a thread per stage; none when one cannot be started.
    private func startThreads() {
        for stage in ring.stages.indices {
            let box = Unmanaged.passRetained(StageBox(ring: ring, stage: stage))
            var id = pthread_t()
            guard pthread_create(&id, nil, { raw in
                let box = Unmanaged<StageBox>.fromOpaque(raw!).takeRetainedValue()
                box.ring.run(stage: box.stage)
                return nil
            }, box.toOpaque()) == 0 else {
                box.release()
                ring.stop()
                for thread in threads { pthread_join(thread, nil) }
                threads = []
                ring.restartStopped()
                return
            }
            threads.append(id)
        }
    }

    /// What a stage's thread runs.
    private final class StageBox {
        let ring: Ring
        let stage: Int
        init(ring: Ring, stage: Int) {
            self.ring = ring
            self.stage = stage
        }
    }

    /// The blocks shared by the producer and the stages' threads. The `inFlight` blocks before
    /// `tail` (modulo `count`) belong to the stages, each block passing from one stage to the next
    /// in order (`waiting[s]` blocks from `heads[s]` on wait for stage `s`); the block at `tail`
    /// belongs to the producer. `failed` is written under the mutex.
    private final class Ring: @unchecked Sendable {
        let blockSize: Int
        let count: Int
        let stages: [Stage]
        private let blocks: UnsafeMutablePointer<UnsafeMutableRawPointer?>
        private let lengths: UnsafeMutablePointer<Int>
        private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        /// Per stage: signalled when a block is ready for it, or on stop.
        private let readyConditions: UnsafeMutablePointer<pthread_cond_t>
        /// Signalled when a block went through the last stage.
        private let spaceCondition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
        private var heads: [Int]
        private var waiting: [Int]
        private var inFlight = 0
        private var stopping = false
        /// Whether a stage returned false in this stream (the blocks not done yet are dropped).
        private var failed = false
        /// The producer's block.
        private(set) var tail = 0

        init(blockSize: Int, count: Int, stages: [Stage]) {
            self.blockSize = blockSize
            self.count = count
            self.stages = stages
            heads = Array(repeating: 0, count: stages.count)
            waiting = Array(repeating: 0, count: stages.count)
            blocks = .allocate(capacity: count)
            blocks.initialize(repeating: nil, count: count)
            lengths = .allocate(capacity: count)
            lengths.initialize(repeating: 0, count: count)
            readyConditions = .allocate(capacity: stages.count)
            pthread_mutex_init(mutex, nil)
            for s in stages.indices { pthread_cond_init(readyConditions + s, nil) }
            pthread_cond_init(spaceCondition, nil)
        }

        deinit {
            for i in 0..<count { blocks[i].map { $0.deallocate() } }
            blocks.deallocate()
            lengths.deallocate()
            pthread_mutex_destroy(mutex)
            for s in stages.indices { pthread_cond_destroy(readyConditions + s) }
            pthread_cond_destroy(spaceCondition)
            mutex.deallocate()
            readyConditions.deallocate()
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
            inFlight += 1
            waiting[0] += 1
            tail = (tail + 1) % count
            pthread_cond_signal(readyConditions)
            while inFlight == count { pthread_cond_wait(spaceCondition, mutex) }
            let ok = !failed
            pthread_mutex_unlock(mutex)
            return ok
        }

        /// Waits until every block handed over went through the stages; false when a stage failed.
        func drain() -> Bool {
            pthread_mutex_lock(mutex)
            while inFlight > 0 { pthread_cond_wait(spaceCondition, mutex) }
            let ok = !failed
            pthread_mutex_unlock(mutex)
            return ok
        }

        /// Takes a block through the stages on the producer's thread (no thread runs, or none
        /// works after `drain`); false when a stage failed, now or before.
        func consumeHere(_ block: UnsafeRawBufferPointer) -> Bool {
            pthread_mutex_lock(mutex)
            let ok = !failed && stages.allSatisfy { $0(block) }
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

        /// Ends the stages' threads (after `drain`: no block is in flight).
        func stop() {
            pthread_mutex_lock(mutex)
            stopping = true
            for s in stages.indices { pthread_cond_signal(readyConditions + s) }
            pthread_mutex_unlock(mutex)
        }

        /// Undoes `stop` when the threads could not all be started (the stages then run on the producer's thread).
        func restartStopped() {
            pthread_mutex_lock(mutex)
            stopping = false
            pthread_mutex_unlock(mutex)
        }

        /// Stage `s`'s thread's loop.
        func run(stage s: Int) {
            pthread_mutex_lock(mutex)
            while true {
                while waiting[s] == 0 && !stopping { pthread_cond_wait(readyConditions + s, mutex) }
                if waiting[s] == 0 { break }
                let i = heads[s]
                let block = UnsafeRawBufferPointer(start: blocks[i]!, count: lengths[i])
                let skip = failed
                pthread_mutex_unlock(mutex)
                let ok = skip || stages[s](block)
                pthread_mutex_lock(mutex)
                if !ok { failed = true }
                heads[s] = (i + 1) % count
                waiting[s] -= 1
                if s + 1 < stages.count {
                    waiting[s + 1] += 1
                    pthread_cond_signal(readyConditions + s + 1)
                } else {
                    inFlight -= 1
                    pthread_cond_signal(spaceCondition)
                }
            }
            pthread_mutex_unlock(mutex)
        }
    }
}
