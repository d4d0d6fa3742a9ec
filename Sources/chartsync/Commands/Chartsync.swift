import ArgumentParser
import Foundation

/// The `chartsync` command: parses, builds the services, reports. Exit codes: 0 success,
/// 1 verification failure, 2 usage or input error, 3 I/O or network failure, 130 interrupted.
@main
struct Chartsync: ParsableCommand {
    /// The version `--version` prints and bundles and the User-Agent record.
    static let version = "0.1.0"

    /// The root command: its help and its subcommands.
    static let configuration = CommandConfiguration(
        commandName: "chartsync",
        abstract: "Vendor Helm charts for disconnected sites: resolve, pull, bundle, verify.",
        discussion: """
            Exit codes: 0 success, 1 verification failure, 2 usage or input error, \
            3 I/O or network failure, 130 interrupted.
            """,
        version: version,
        subcommands: [InitCommand.self, PullCommand.self, ImagesCommand.self, BundleCommand.self, VerifyCommand.self, InspectCommand.self,
                      KeygenCommand.self, SearchCommand.self, IndexCommand.self, PushCommand.self, OutdatedCommand.self, AddCommand.self, DiffCommand.self]
    )

    /// Parses and runs the command, turning every error into chartsync's exit codes.
    static func main() {
        setlocale(LC_ALL, "C.UTF-8")
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let failure as Failure {
            Terminal.error(failure.message)
            Foundation.exit(failure.code.rawValue)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                exit(withError: error)
            }
            // swift-argument-parser reports usage errors as 64; chartsync documents 2.
            Terminal.error(fullMessage(for: error))
            if code == .validationFailure { Foundation.exit(ExitStatus.usage.rawValue) }
            Foundation.exit(code.rawValue)
        }
    }
}
