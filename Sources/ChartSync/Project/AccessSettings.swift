import ChartSyncCore
import ChartSyncTransport

/// Turns a chart list's access settings (TLS files, credential sources) into transport options
/// and credentials: one rule for chart repositories and image registries. Paths are relative to
/// the project root; secrets come from the environment or a credentials file, never the list.
enum AccessSettings {
    /// `base` with the access's TLS settings applied.
    static func transport(_ access: ChartList.Access, base: TransportOptions, root: String) -> TransportOptions {
        var transport = base
        if let caFile = access.caFile { transport.caFile = path(caFile, root: root) }
        if let certFile = access.certFile { transport.certFile = path(certFile, root: root) }
        if let keyFile = access.keyFile { transport.keyFile = path(keyFile, root: root) }
        if access.insecureSkipTLSVerify { transport.insecureSkipTLSVerify = true }
        return transport
    }

    /// The credentials the access names: a credentials file, a token variable, or a user and
    /// password variable pair; nil when none is set (or the variables are empty).
    static func credentials(_ access: ChartList.Access, environment: [String: String], root: String) throws(CredentialsError) -> Credentials? {
        if let file = access.credentialsFile {
            return try CredentialsSource.load(file: path(file, root: root))
        }
        if let token = access.tokenEnv, let value = environment[token] {
            return .bearer(token: value)
        }
        if let user = access.usernameEnv, let password = access.passwordEnv,
           let u = environment[user], let p = environment[password] {
            return .basic(username: u, password: p)
        }
        return nil
    }

    /// A path from the chart list, relative to the project root.
    static func path(_ text: String, root: String) -> String { text.hasPrefix("/") ? text : root + "/" + text }
}
