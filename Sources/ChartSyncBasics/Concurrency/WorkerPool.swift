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

    private final class WorkerBox {
        let work: () -> Void
        init(_ work: @escaping () -> Void) { self.work = work }
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
