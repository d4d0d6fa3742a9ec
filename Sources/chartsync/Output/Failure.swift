import ChartSync
import ChartSyncIndex

/// An error already worded for the user, with its exit code.
struct Failure: Error {
    /// The exit code it ends the run with.
    let code: ExitStatus
    /// The message printed on stderr.
    let message: String
}

extension Failure {
    /// Runs `body`, turning library errors into a worded failure with the documented exit code.
    static func mapping<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let failure as Failure {
            throw failure
        } catch let error as any ChartSyncFailure {
            throw Failure(code: ExitStatus(error.kind), message: String(describing: error))
        } catch let error as ChartListError {
            throw Failure(code: .usage, message: error.description)
        } catch {
            throw Failure(code: .ioFailure, message: String(describing: error))
        }
    }
}
