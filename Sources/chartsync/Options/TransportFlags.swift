import ArgumentParser
import ChartSyncTransport
import Foundation

/// Options shared by every command that talks to a repository. Credentials are not among them:
/// pull and images take them per repository or registry from the chart list; search has
/// `CredentialsOptions`.
struct TransportFlags: ParsableArguments {
    /// A PEM file of CA certificates to verify servers with.
    @Option(name: .customLong("ca-file"), help: "Verify servers with the CA certificates in this PEM file.")
    var caFile: String?

    /// The client certificate for mutual TLS.
    @Option(name: .customLong("cert-file"), help: "Client certificate (PEM) for mutual TLS.")
    var certFile: String?

    /// The client certificate's private key.
    @Option(name: .customLong("key-file"), help: "Private key (PEM) of the client certificate.")
    var keyFile: String?

    /// Do not verify servers' certificates.
    @Flag(name: .customLong("insecure-skip-tls-verify"), help: "Do not verify the server's certificate (prints a warning).")
    var insecureSkipTLSVerify = false

    /// Also send credentials to the host a redirect leads to.
    @Flag(name: .customLong("pass-credentials"), help: "Also send credentials when a redirect leads to another host.")
    var passCredentials = false

    /// Seconds to wait for a connection.
    @Option(name: .customLong("connect-timeout"), help: "Seconds to wait for a connection.")
    var connectTimeout: Double = 15

    /// Attempts after the first one for transient failures.
    @Option(name: .customLong("retries"), help: "Attempts after the first one for transient failures.")
    var retries: Int = 3

    /// Seconds without data after which a transfer is aborted.
    @Option(name: .customLong("stall-timeout"), help: "Abort (and retry) a transfer that receives nothing for this many seconds.")
    var stallTimeout: Int = 30

    /// The most retries and the longest timeout accepted: far beyond any real use, and small
    /// enough that attempt counts and curl's millisecond timeouts cannot overflow.
    static let maxRetries = 1000, maxSeconds = 1_000_000_000

    /// Checks that the certificate options go together and that every number is in range.
    func validate() throws {
        if (certFile == nil) != (keyFile == nil) {
            throw ValidationError("--cert-file and --key-file go together")
        }
        if retries < 0 { throw ValidationError("--retries must be 0 or more") }
        if retries > Self.maxRetries { throw ValidationError("--retries must be at most \(Self.maxRetries)") }
        // Also refuses nan; inf is above the maximum.
        if !(connectTimeout > 0) { throw ValidationError("--connect-timeout must be positive") }
        if connectTimeout > Double(Self.maxSeconds) { throw ValidationError("--connect-timeout must be at most \(Self.maxSeconds) seconds") }
        if stallTimeout <= 0 { throw ValidationError("--stall-timeout must be positive") }
        if stallTimeout > Self.maxSeconds { throw ValidationError("--stall-timeout must be at most \(Self.maxSeconds) seconds") }
    }

    /// The transport options these flags describe.
    var options: TransportOptions {
        var options = TransportOptions()
        options.caFile = caFile
        options.certFile = certFile
        options.keyFile = keyFile
        options.insecureSkipTLSVerify = insecureSkipTLSVerify
        options.allowCredentialsOnRedirect = passCredentials
        options.connectTimeout = connectTimeout
        options.retry.maxAttempts = retries + 1
        options.lowSpeedTime = stallTimeout
        options.userAgent = "chartsync/" + Chartsync.version
        return options
    }
}
