import Dispatch
import Foundation

/// Turns SIGINT and SIGTERM into a call (cancellation), so a run can clean up and leave no trace.
final class SignalTrap {
    /// One dispatch source per trapped signal; cancelled when the trap goes away.
    private let sources: [DispatchSourceSignal]

    /// Ignores the default action of SIGINT and SIGTERM and calls `handler` on each instead.
    /// Returns only once libdispatch handles both: between `SIG_IGN` and the registration of a
    /// source (done later, on libdispatch's own thread) a signal would otherwise be dropped and
    /// the run go on to the end as if nobody had asked it to stop.
    init(_ handler: @escaping @Sendable () -> Void) {
        let armed = DispatchGroup()
        sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler(handler: handler)
            armed.enter()
            source.setRegistrationHandler { armed.leave() }
            source.resume()
            return source
        }
        _ = armed.wait(timeout: .now() + 5)
    }

    /// Stops handling the signals.
    deinit {
        for source in sources { source.cancel() }
    }
}
