import ArgumentParser
import ChartSyncTransport
import Foundation

/// `search`'s credentials for the one repository it asks (pull and images read them per
/// repository from the chart list instead): a file, else CHARTSYNC_* variables; never argv.
struct CredentialsOptions: ParsableArguments {
    /// The file to read credentials from.
    @Option(name: .customLong("credentials-file"), help: ArgumentHelp(
        "Read credentials from this file (lines `username: ...`, `password: ...` or `token: ...`).",
        discussion: "Without it, CHARTSYNC_USERNAME/CHARTSYNC_PASSWORD or CHARTSYNC_TOKEN are used when set."))
    var credentialsFile: String?

    /// Credentials from the credentials file, else from the environment; never from argv.
    func credentials() throws -> Credentials? {
        if let credentialsFile {
            do {
                return try CredentialsSource.load(file: credentialsFile)
            } catch {
                throw Failure(code: .usage, message: error.description)
            }
        }
        return CredentialsSource.load(environment: ProcessInfo.processInfo.environment)
    }
}
