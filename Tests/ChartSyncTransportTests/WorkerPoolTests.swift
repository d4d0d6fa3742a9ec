import ChartSyncBasics
import Glibc
import Synchronization
import Testing

/// `WorkerPool.run(_:threads:pick:_:)`: jobs that find more jobs, on a fixed number of threads.
@Suite struct WorkerPoolTests {
    /// What the jobs of one run did: the order they started in, and the most that ran at once.
    struct Log: Sendable {
        var started: [Int] = []
        var running = 0
        var mostAtOnce = 0
    }

    @Test("every job runs once, the ones jobs add too, never more at once than threads", arguments: [1, 3, 8])
    func everyJobOnce(threads: Int) {
        let log = Mutex(Log())
        // Job n < 100 adds 10n+1 ... 10n+3 (those under 1000): a tree of jobs found while running.
        WorkerPool.run([1, 2], threads: threads, pick: { _, _ in 0 }) { job, add in
            log.withLock { log in
                log.started.append(job)
                log.running += 1
                log.mostAtOnce = max(log.mostAtOnce, log.running)
            }
            usleep(200)
            if job < 100 { for child in 1...3 where 10 * job + child < 1000 { add(10 * job + child) } }
            log.withLock { $0.running -= 1 }
        }
        var expected: [Int] = []
        var level = [1, 2]
        while !level.isEmpty {
            expected += level
            level = level.filter { $0 < 100 }.flatMap { job in (1...3).map { 10 * job + $0 }.filter { $0 < 1000 } }
        }
        let done = log.withLock { $0 }
        #expect(done.started.sorted() == expected.sorted())
        #expect(done.mostAtOnce <= threads)
        if threads > 1 { #expect(done.mostAtOnce > 1, "the jobs ran side by side") }
    }

    @Test("a free thread runs the job pick chooses: with one thread, in pick's order")
    func pickDecides() {
        let order = Mutex<[Int]>([])
        // The smallest waiting first; job 5 adds 1 and 9, which then come before 6 and after 4.
        WorkerPool.run([8, 5, 6], threads: 1, pick: { waiting, worker in
            #expect(worker == 0)
            return waiting.indices.min { waiting[$0] < waiting[$1] }!
        }) { job, add in
            order.withLock { $0.append(job) }
            if job == 5 { add(9); add(1) }
        }
        #expect(order.withLock { $0 } == [5, 1, 6, 8, 9])
    }

    @Test("threads with nothing to do wait for the jobs still running, which may add more")
    func idleThreadsWaitForAddedJobs() {
        let log = Mutex(Log())
        // One first job, which adds 4 more only after a while: the 3 other threads, idle until
        // then, must still be there to run them side by side.
        WorkerPool.run([0], threads: 4, pick: { _, _ in 0 }) { job, add in
            if job == 0 {
                usleep(100_000)
                for n in 1...4 { add(n) }
                return
            }
            log.withLock { log in
                log.started.append(job)
                log.running += 1
                log.mostAtOnce = max(log.mostAtOnce, log.running)
            }
            usleep(100_000)
            log.withLock { $0.running -= 1 }
        }
        let done = log.withLock { $0 }
        #expect(done.started.sorted() == [1, 2, 3, 4])
        #expect(done.mostAtOnce >= 2, "the added jobs ran on the threads that had waited")
    }

    @Test("no jobs: returns at once")
    func nothing() {
        WorkerPool.run([Int](), threads: 4, pick: { _, _ in 0 }) { _, _ in Issue.record("no job should run") }
    }
}
