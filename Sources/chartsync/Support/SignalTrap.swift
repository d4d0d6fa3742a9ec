import ChartSyncCore
import Foundation
import Glibc
import Synchronization

/// The signal a trap caught (0: none); written by the signal handler, which may only store it.
private let caughtSignal = Atomic<Int32>(0)

/// Turns SIGINT and SIGTERM into a call (cancellation), so a run can clean up and leave no trace.
///
/// A plain `sigaction` handler records the signal in an atomic, and a watcher thread calls the
/// handler: the handler is in place when `init` returns, so a signal is never lost (libdispatch's
/// signal sources install theirs later on their own thread, and a Ctrl-C in between was dropped).
final class SignalTrap {
    /// Tells the watcher to stop.
    private let done = Cancellation()

    /// Calls `handler` (once, on another thread) when SIGINT or SIGTERM arrives.
    init(_ handler: @escaping @Sendable () -> Void) {
        _ = caughtSignal.load(ordering: .relaxed)  // initialized before the handler can run
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { number in caughtSignal.store(number, ordering: .relaxed) }
        sigemptyset(&action.sa_mask)
        action.sa_flags = SA_RESTART
        sigaction(SIGINT, &action, nil)
        sigaction(SIGTERM, &action, nil)
        let done = self.done
        Thread.detachNewThread {
            while !done.isCancelled {
                if caughtSignal.load(ordering: .relaxed) != 0 {
                    handler()
                    return
                }
                usleep(20_000)
            }
        }
    }

    /// Stops watching; the signals get their default action back.
    deinit {
        done.cancel()
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}
