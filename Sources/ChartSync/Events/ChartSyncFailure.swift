import ChartSyncCore

/// How a failure should be reported: chartsync's exit codes follow these kinds.
public enum FailureKind: Sendable {
    /// Proof failed: a digest, a size or a chart's content is not what it must be (exit 1).
    case verification
    /// The input is wrong: chart list, lock, options (exit 2).
    case input
    /// I/O, network, or the environment (exit 3).
    case io
    /// The user interrupted the run (exit 130).
    case interrupted
}

/// An error that knows its kind.
public protocol ChartSyncFailure: Error {
    /// How to report it.
    var kind: FailureKind { get }
}
