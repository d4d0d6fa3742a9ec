import Dispatch
import Foundation

/// Turns SIGINT and SIGTERM into a call (cancellation), so a run can clean up and leave no trace.
final class SignalTrap {
    /// One dispatch source per trapped signal; cancelled when the trap goes away.
    private let sources: [DispatchSourceSignal]

    /// Ignores the default action of SIGINT and SIGTERM and calls `handler` on each instead.
    init(_ handler: @escaping @Sendable () -> Void) {
        sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler(handler: handler)
            source.resume()
            return source
        }
    }

    /// Stops handling the signals.
    deinit {
        for source in sources { source.cancel() }
    }
}
