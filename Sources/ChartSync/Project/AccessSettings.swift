import ChartSyncCore
import ChartSyncTransport

/// Turns a chart list's access settings (TLS files, credential sources) into transport options
/// and credentials: one rule for chart repositories and image registries. Paths are relative to
/// the project root; secrets come from the environment or a credentials file, never the list.
enum AccessSettings {
    /// `base` with the access's TLS settings applied.
    static func transport(_ access: ChartList.Access, base: TransportOptions, root: String,
                          environment: [String: String]) -> TransportOptions {
        var transport = base
        if let caFile = access.caFile { transport.caFile = path(caFile, root: root, environment: environment) }
        if let certFile = access.certFile { transport.certFile = path(certFile, root: root, environment: environment) }
        if let keyFile = access.keyFile { transport.keyFile = path(keyFile, root: root, environment: environment) }
        if access.insecureSkipTLSVerify { transport.insecureSkipTLSVerify = true }
        return transport
    }

    /// The credentials the access names: a credentials file, a token variable, or a user and
    /// password variable pair; nil when none is named. A named variable that is not set (or is
    /// empty) is an error naming it: a silent anonymous request would look like a refused password.
    static func credentials(_ access: ChartList.Access, environment: [String: String], root: String) throws(CredentialsError) -> Credentials? {
        if let file = access.credentialsFile {
            return try CredentialsSource.load(file: path(file, root: root, environment: environment))
        }
        func value(_ key: String, _ name: String) throws(CredentialsError) -> String {
            guard let value = environment[name], !value.isEmpty else { throw .unsetVariable(key: key, name: name) }
            return value
        }
        if let token = access.tokenEnv {
            return .bearer(token: try value("tokenEnv", token))
        }
        if let user = access.usernameEnv, let password = access.passwordEnv {
            return .basic(username: try value("usernameEnv", user), password: try value("passwordEnv", password))
        }
        return nil
    }

    /// A path from the chart list (`~/` is `HOME`; relative paths are relative to the root).
    static func path(_ text: String, root: String, environment: [String: String]) -> String {
        ChartList.Access.resolve(text, root: root, home: environment["HOME"])
    }
}
