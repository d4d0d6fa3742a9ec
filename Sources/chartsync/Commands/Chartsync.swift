import ArgumentParser
import ChartSync
import Foundation

/// The `chartsync` command: parses, builds the services, reports. Exit codes: 0 success,
/// 1 verification failure, 2 usage or input error, 3 I/O or network failure, 130 interrupted.
@main
struct Chartsync: ParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "chartsync",
        abstract: "Vendor Helm charts for disconnected sites: resolve, pull, bundle, verify.",
        discussion: """
            Exit codes: 0 success, 1 verification failure, 2 usage or input error, \
            3 I/O or network failure, 130 interrupted.
            """,
        version: version,
        subcommands: [PullCommand.self, ImagesCommand.self, BundleCommand.self, VerifyCommand.self, InspectCommand.self, KeygenCommand.self,
                      SearchCommand.self, IndexCommand.self]
    )

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

/// chartsync's documented exit codes.
enum ExitStatus: Int32 {
    case success = 0, verificationFailed = 1, usage = 2, ioFailure = 3, interrupted = 130
}

/// An error already worded for the user, with its exit code.
struct Failure: Error {
    let code: ExitStatus
    let message: String
}
