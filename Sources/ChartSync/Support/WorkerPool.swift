import Synchronization
import Glibc

/// Runs blocking jobs (libcurl transfers) on a fixed number of threads.
enum WorkerPool {
    /// Calls `body(i)` for every i in 0..<count on up to `threads` threads; returns when all are done.
    static func run(count: Int, threads: Int, _ body: @escaping @Sendable (Int) -> Void) {
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
