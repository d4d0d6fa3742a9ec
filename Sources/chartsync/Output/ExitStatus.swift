import ChartSync

/// chartsync's documented exit codes.
enum ExitStatus: Int32 {
    /// The codes README.md documents.
    case success = 0, verificationFailed = 1, usage = 2, ioFailure = 3, interrupted = 130
}

extension ExitStatus {
    /// The exit code for a failure kind.
    init(_ kind: FailureKind) {
        switch kind {
        case .verification: self = .verificationFailed
        case .input: self = .usage
        case .io: self = .ioFailure
        case .interrupted: self = .interrupted
        }
    }
}
