import ArgumentParser
import ChartSync

/// `chartsync keygen`: an Ed25519 key pair for signing bundles.
struct KeygenCommand: ParsableCommand {
    /// The command's name and help.
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Write an Ed25519 key pair for signing bundles: KEY (private, mode 0600) and KEY.pub."
    )

    /// The private key file to write.
    @Argument(help: "The private key file to write.")
    var key: String

    /// Writes the key pair and prints its paths and fingerprint.
    func run() throws {
        let (publicPath, fingerprint) = try Failure.mapping { try SigningKey.generate(path: Paths.absolute(key)) }
        Terminal.output("private key: \(Paths.absolute(key))\npublic key:  \(publicPath)\nfingerprint: \(fingerprint)")
    }
}
