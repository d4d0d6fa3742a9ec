import Glibc
import Synchronization

/// Runs blocking jobs (libcurl transfers, file hashing) on a fixed number of threads.
public enum WorkerPool {
    /// The number of online processors (at least 1): the thread count for CPU-bound work.
    public static var processorCount: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    /// `transform(element)` for every element on up to `threads` threads; the results in the
    /// elements' order, whatever order the threads finish in.
    public static func map<Element: Sendable, Result: Sendable>(
        _ elements: [Element], threads: Int, _ transform: @escaping @Sendable (Element) -> Result
    ) -> [Result] {
        let slots = Mutex<[Int: Result]>([:])
        run(count: elements.count, threads: threads) { i in
            let result = transform(elements[i])
            slots.withLock { $0[i] = result }
        }
        return slots.withLock { all in elements.indices.map { all[$0]! } }
    }

    /// Calls `body(i)` for every i in 0..<count on up to `threads` threads; returns when all are done.
    public static func run(count: Int, threads: Int, _ body: @escaping @Sendable (Int) -> Void) {
        guard count > 0 else { return }
        let queue = JobQueue(count: count)
        let workers = max(1, min(threads, count))
        var ids: [pthread_t] = []
        for _ in 0..<workers {
            let box = Unmanaged.passRetained(WorkerBox {
                while let i = queue.next() { body(i) }
            })
            var thread = pthread_t()
            let created = pthread_create(&thread, nil, { raw in
                let box = Unmanaged<WorkerBox>.fromOpaque(raw!).takeRetainedValue()
                box.work()
                return nil
            }, box.toOpaque())
            if created == 0 {
                ids.append(thread)
            } else {
                // No thread: do the work here.
                box.takeRetainedValue().work()
            }
        }
        for thread in ids { pthread_join(thread, nil) }
    }

    /// Starts `body(i)` on a thread of its own for every i in 0..<count and returns at once, the
    /// caller going on beside them (a producer feeding its workers); `join` on the result waits for
    /// them. Threads that cannot be created are left out: `started` says how many run.
    public static func start(count: Int, _ body: @escaping @Sendable (Int) -> Void) -> Threads {
        var ids: [pthread_t] = []
        for i in 0..<max(0, count) {
            let box = Unmanaged.passRetained(WorkerBox { body(i) })
            var thread = pthread_t()
            let created = pthread_create(&thread, nil, { raw in
                let box = Unmanaged<WorkerBox>.fromOpaque(raw!).takeRetainedValue()
                box.work()
                return nil
            }, box.toOpaque())
            if created == 0 {
                ids.append(thread)
            } else {
                box.release()
                break
            }
        }
        return Threads(ids: ids)
    }

    /// Threads started by ``start(count:_:)``.
    public struct Threads {
        fileprivate let ids: [pthread_t]
        /// No thread.
        public static var none: Threads { Threads(ids: []) }
        /// How many were started (the first `started` bodies run).
        public var started: Int { ids.count }

        /// Waits until every thread's body returned.
        public func join() {
            for thread in ids { pthread_join(thread, nil) }
        }
    }

    /// Runs `body` for every job on up to `threads` threads, where a job may find more jobs and
    /// hand them to `add` (an image's manifests name its blobs): they run on the same threads as
    /// soon as one is free, so later jobs need not wait for every first one to finish. When
    /// thread `worker` (0 ..< threads) is free and jobs wait, `pick(waiting, worker)` chooses the
    /// one it runs (an index into `waiting`; threads may have roles). Returns when every job,
    /// added ones included, is done.
    public static func run<Job: Sendable>(
        _ jobs: [Job], threads: Int, pick: @escaping @Sendable (_ waiting: [Job], _ worker: Int) -> Int,
        _ body: @escaping @Sendable (_ job: Job, _ add: (Job) -> Void) -> Void
    ) {
        guard !jobs.isEmpty else { return }
        let queue = GrowingQueue(jobs, pick: pick)
        let threads = start(count: max(1, threads)) { worker in
            while let job = queue.next(worker: worker) {
                body(job, queue.add)
                queue.done()
            }
        }
        if threads.started == 0 {
            // No thread at all: do the work here.
            while let job = queue.next(worker: 0) {
                body(job, queue.add)
                queue.done()
            }
        }
        threads.join()
    }

    private final class WorkerBox {
        let work: () -> Void
        init(_ work: @escaping () -> Void) { self.work = work }
    }

    /// The jobs of `run(_:threads:pick:_:)` waiting, and how many run: a worker asking for the
    /// next job waits while none waits but some still run (they may add more).
    private final class GrowingQueue<Job: Sendable>: @unchecked Sendable {
        private var waiting: [Job]
        private var running = 0
        private let pick: @Sendable ([Job], Int) -> Int
        private let lock = ConditionLock()

        init(_ jobs: [Job], pick: @escaping @Sendable ([Job], Int) -> Int) {
            waiting = jobs
            self.pick = pick
        }

        /// The job `worker` runs next (the one `pick` chose), or nil once none waits and none runs.
        func next(worker: Int) -> Job? {
            lock.withLock {
                while waiting.isEmpty && running > 0 { lock.wait() }
                guard !waiting.isEmpty else { return nil }
                let chosen = pick(waiting, worker)
                waiting.swapAt(waiting.indices.contains(chosen) ? chosen : 0, waiting.count - 1)
                running += 1
                return waiting.removeLast()
            }
        }

        /// Adds a job found by a running one.
        func add(_ job: Job) {
            lock.withLock {
                waiting.append(job)
                lock.broadcast()
            }
        }

        /// A job returned (after adding what it found).
        func done() {
            lock.withLock {
                running -= 1
                if running == 0 && waiting.isEmpty { lock.broadcast() }
            }
        }
    }

    private final class JobQueue: Sendable {
        private let taken = Atomic<Int>(0)
        private let count: Int

        init(count: Int) { self.count = count }

        func next() -> Int? {
            let i = taken.wrappingAdd(1, ordering: .relaxed).oldValue
            return i < count ? i : nil
        }
    }
}
