import ChartSyncTestSupport
import Foundation
import Testing

/// The trial report's access fixes, on the built binary against real servers: `~/` in the chart
/// list is HOME; a named credentials variable that is unset is an error naming it, with no request
/// made; a 401 says whether credentials were sent; an unreadable caFile/certFile/keyFile/
/// credentialsFile is a chart-list error with its line; an unknown CA suggests caFile: or
/// --ca-file; --credentials-file only where it is honoured (search).
@Suite struct TrialAccessTests {
    static let example = Fixtures.packageRoot + "/examples/repo"

    /// A chart list vendoring hello-web 1.1.0 from repository `r` at `url`, with `access` lines
    /// (e.g. `caFile: ca.pem`) in the repository entry after its url (line 3), so the
    /// repository's entry starts on line 2.
    static func chartList(url: String, access: [String] = [], chart: String = "hello-web") -> String {
        var text = "repositories:\n  - name: r\n    url: \(url)\n"
        for line in access { text += "    \(line)\n" }
        text += "charts:\n  - name: \(chart)\n    repository: r\n    version: \"1.1.0\"\n"
        return text
    }

    /// The example repository on the fault server: its index at /index.yaml (relative chart
    /// URLs, so the tarball is at /hello-web-1.1.0.tgz). The fault server logs a request before
    /// answering it, so an empty log after a run means no request was made.
    static func exampleOnFaultServer() throws -> FaultServer {
        let server = try FaultServer()
        try server.plan("/index.yaml", .ok(Array(try Data(contentsOf: URL(fileURLWithPath: example + "/index.yaml")))))
        try server.plan("/hello-web-1.1.0.tgz", .ok(Array(try Data(contentsOf: URL(fileURLWithPath: example + "/hello-web-1.1.0.tgz")))))
        return server
    }

    /// A credentials file (mode 600) for `username`/`password` in `directory`.
    @discardableResult
    static func credentialsFile(_ directory: TemporaryDirectory, _ name: String = "creds",
                                username: String, password: String) throws -> String {
        let file = try directory.write(name, Array("username: \(username)\npassword: \(password)\n".utf8))
        chmod(file, 0o600)
        return file
    }

    // MARK: - 1. ~/ is HOME

    @Test func credentialsFileUnderHomeIsFound() throws {
        let nginx = try StaticServer(root: Self.example, options: .init(basicAuth: .init(username: "alice", password: "open-sesame")))
        defer { nginx.stop() }
        let home = try TemporaryDirectory(prefix: "chartsync-home")
        try Self.credentialsFile(home, username: "alice", password: "open-sesame")
        let project = try PullProject(chartList: Self.chartList(url: nginx.url(""), access: ["credentialsFile: ~/creds"]))

        // HOME elsewhere: the file is looked for there, and the message shows both spellings.
        let elsewhere = try TemporaryDirectory(prefix: "chartsync-home")
        let before = try project.snapshot()
        let missing = try project.pull(environment: ["HOME": elsewhere.path])
        #expect(missing.status == 2, "\(missing.stderr)")
        #expect(missing.stderr.contains("chartsync.yaml: line 2: repository \"r\": credentialsFile ~/creds (\(elsewhere.path)/creds) cannot be read: No such file or directory"),
                "\(missing.stderr)")
        #expect(try project.snapshot() == before)
        #expect(nginx.accessLog().isEmpty)

        // HOME holding the file: nginx lets alice in, and the chart is vendored.
        let run = try project.pull(environment: ["HOME": home.path])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("added      hello-web 1.1.0"), "\(run.stdout)")
        #expect(try sha256sum(file: project.path + "/charts/external/hello-web-1.1.0.tgz")
                == sha256sum(file: Self.example + "/hello-web-1.1.0.tgz"))
        let log = nginx.accessLog(atLeast: 2)
        #expect(log.contains { $0.hasPrefix("GET /index.yaml 200 alice ") }, "\(log)")
        #expect(log.contains { $0.hasPrefix("GET /hello-web-1.1.0.tgz 200 alice ") }, "\(log)")
        #expect(!(run.stdout + run.stderr + (try project.read("versions.lock"))).contains("open-sesame"))
    }

    // MARK: - 2. A named variable that is unset

    struct UnsetCase: Sendable, CustomTestStringConvertible {
        let access: [String]
        let set: [String: String]       // what the first (successful) pull has
        let unset: [String: String]     // what the refused pull has
        let message: String
        var testDescription: String { message }
    }

    static let unsetCases: [UnsetCase] = [
        UnsetCase(access: ["usernameEnv: REPO_U", "passwordEnv: REPO_P"], set: ["REPO_U": "alice", "REPO_P": "pw-1"],
                  unset: ["REPO_U": "alice"],
                  message: "repository \"r\": passwordEnv names the environment variable REPO_P, which is not set; no credentials would be sent"),
        UnsetCase(access: ["usernameEnv: REPO_U", "passwordEnv: REPO_P"], set: ["REPO_U": "alice", "REPO_P": "pw-1"],
                  unset: ["REPO_P": "pw-1"],
                  message: "repository \"r\": usernameEnv names the environment variable REPO_U, which is not set; no credentials would be sent"),
        UnsetCase(access: ["tokenEnv: REPO_T"], set: ["REPO_T": "tok-1"], unset: [:],
                  message: "repository \"r\": tokenEnv names the environment variable REPO_T, which is not set; no credentials would be sent"),
        // Set but empty counts as unset.
        UnsetCase(access: ["tokenEnv: REPO_T"], set: ["REPO_T": "tok-1"], unset: ["REPO_T": ""],
                  message: "repository \"r\": tokenEnv names the environment variable REPO_T, which is not set; no credentials would be sent"),
    ]

    @Test(arguments: unsetCases)
    func unsetCredentialsVariableIsAnInputErrorAndNothingIsRequested(_ c: UnsetCase) throws {
        let server = try Self.exampleOnFaultServer()
        defer { server.stop() }
        let project = try PullProject(chartList: Self.chartList(url: server.url(""), access: c.access))
        // With the variables set, credentials go out (the same chart list works).
        let first = try project.pull(environment: c.set)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(try server.requests(path: "/index.yaml").first?.authorization != nil)
        try server.clear()
        try server.plan("/index.yaml", .ok(Array(try Data(contentsOf: URL(fileURLWithPath: Self.example + "/index.yaml")))))
        let before = try project.snapshot()

        let run = try project.pull(environment: c.unset)
        #expect(run.status == 2, "\(run.stderr)")
        #expect(run.stderr.contains(c.message), "\(run.stderr)")
        #expect(try server.requests().isEmpty, "an anonymous request was made")
        #expect(try project.snapshot() == before)
    }

    /// The same refusal on a project never pulled leaves it as it was.
    @Test func unsetCredentialsVariableOnAFreshProjectCreatesNothing() throws {
        let server = try Self.exampleOnFaultServer()
        defer { server.stop() }
        let project = try PullProject(chartList: Self.chartList(url: server.url(""), access: ["tokenEnv: REPO_T"]))
        let before = try project.snapshot()
        let run = try project.pull()
        #expect(run.status == 2, "\(run.stderr)")
        #expect(run.stderr.contains("tokenEnv names the environment variable REPO_T, which is not set"), "\(run.stderr)")
        #expect(try server.requests().isEmpty)
        // A refused pull of a fresh project creates nothing, not even charts/ or charts/external/.
        let after = try project.snapshot()
        #expect(after == before, "\(after)")
    }

    // MARK: - 3. 401: none sent, or refused

    @Test func unauthorizedSaysWhetherCredentialsWereSent() throws {
        let nginx = try StaticServer(root: Self.example, options: .init(basicAuth: .init(username: "alice", password: "open-sesame")))
        defer { nginx.stop() }
        let list = Self.chartList(url: nginx.url(""), access: ["usernameEnv: REPO_U", "passwordEnv: REPO_P"])
        let project = try PullProject(chartList: list)
        // A state to lose: the chart vendored with the right password.
        let good = try project.pull(environment: ["REPO_U": "alice", "REPO_P": "open-sesame"])
        #expect(good.status == 0, "\(good.stderr)")
        let served = nginx.accessLog(atLeast: 2).count

        // No credentials configured in the chart list.
        try project.setChartList(Self.chartList(url: nginx.url("")))
        let before = try project.snapshot()
        let none = try project.pull()
        #expect(none.status == 3, "\(none.stderr)")
        #expect(none.stderr.contains("\(nginx.url("index.yaml")) answered HTTP 401 Unauthorized: no credentials were sent "
                                     + "(set usernameEnv/passwordEnv, tokenEnv or credentialsFile for the repository)"), "\(none.stderr)")
        #expect(!none.stderr.contains("refused"), "\(none.stderr)")
        #expect(try project.snapshot() == before)
        #expect(nginx.accessLog(atLeast: served + 1).dropFirst(served).allSatisfy { $0.hasPrefix("GET /index.yaml 401 ") })

        // Wrong password.
        try project.setChartList(list)
        let before2 = try project.snapshot()
        let wrong = try project.pull(environment: ["REPO_U": "alice", "REPO_P": "wrong-password-42"])
        #expect(wrong.status == 3, "\(wrong.stderr)")
        #expect(wrong.stderr.contains("\(nginx.url("index.yaml")) answered HTTP 401 Unauthorized: the credentials were refused"), "\(wrong.stderr)")
        #expect(!wrong.stderr.contains("no credentials were sent"), "\(wrong.stderr)")
        #expect(!(wrong.stdout + wrong.stderr).contains("wrong-password-42"))
        #expect(try project.snapshot() == before2)
        #expect(!nginx.accessLog().contains { $0.contains("hello-web-1.1.0.tgz 401") })
    }

    /// The repository redirects to another host, which answers 401: the credentials stayed
    /// behind (no passCredentials), so none were sent to the host that refused.
    @Test func unauthorizedAfterACrossHostRedirectIsNotCalledRefused() throws {
        let server = try FaultServer()
        defer { server.stop() }
        try server.plan("/index.yaml", .redirect(to: server.url("/mirror/index.yaml", host: "localhost")))
        try server.plan("/mirror/index.yaml", .status(401))
        let project = try PullProject(chartList: Self.chartList(url: server.url(""), access: ["tokenEnv: REPO_T"]))
        let run = try project.pull(environment: ["REPO_T": "tok-123456"])
        #expect(run.status == 3, "\(run.stderr)")
        #expect(run.stderr.contains(server.url("/mirror/index.yaml", host: "localhost") + " answered HTTP 401 Unauthorized"), "\(run.stderr)")
        #expect(try server.requests(path: "/index.yaml").first?.authorization == "Bearer tok-123456")
        #expect(try server.requests(path: "/mirror/index.yaml").first.map { $0.authorization == nil } == true)
        #expect(!run.stderr.contains("tok-123456"))
        // The credentials stayed with the repository's host: the 401 says so, and names the way out.
        #expect(!run.stderr.contains("the credentials were refused"), "\(run.stderr)")
        #expect(run.stderr.contains("no credentials were sent to this host") && run.stderr.contains("passCredentials: true"),
                "\(run.stderr)")
    }

    // MARK: - 4. An unreadable TLS or credentials file is the chart list's error

    struct FileCase: Sendable, CustomTestStringConvertible {
        let access: [String]
        let present: [String]        // files that exist (relative to the project)
        let message: String          // after "chartsync.yaml: line 2: repository \"r\": "
        var testDescription: String { access.joined(separator: ", ") }
    }

    static let fileCases: [FileCase] = [
        FileCase(access: ["caFile: certs/ca.pem"], present: [], message: "caFile certs/ca.pem ({{ROOT}}/certs/ca.pem) cannot be read: No such file or directory"),
        FileCase(access: ["certFile: tls/client.pem", "keyFile: tls/client.key"], present: ["tls/client.key"],
                 message: "certFile tls/client.pem ({{ROOT}}/tls/client.pem) cannot be read: No such file or directory"),
        FileCase(access: ["certFile: tls/client.pem", "keyFile: tls/client.key"], present: ["tls/client.pem"],
                 message: "keyFile tls/client.key ({{ROOT}}/tls/client.key) cannot be read: No such file or directory"),
        FileCase(access: ["credentialsFile: secrets/repo.creds"], present: [],
                 message: "credentialsFile secrets/repo.creds ({{ROOT}}/secrets/repo.creds) cannot be read: No such file or directory"),
        FileCase(access: ["caFile: {{ROOT}}/absent-ca.pem"], present: [],
                 message: "caFile {{ROOT}}/absent-ca.pem cannot be read: No such file or directory"),
    ]

    @Test(arguments: fileCases)
    func unreadableAccessFileIsAChartListErrorBeforeAnyNetwork(_ c: FileCase) throws {
        let server = try Self.exampleOnFaultServer()
        defer { server.stop() }
        let project = try PullProject(chartList: "")
        try project.setChartList(Self.chartList(url: server.url(""), access: c.access.map { $0.replacingOccurrences(of: "{{ROOT}}", with: project.path) }))
        for file in c.present { try project.directory.write(file, Array("-----BEGIN X-----\n".utf8)) }
        let before = try project.snapshot()
        let run = try project.pull()
        #expect(run.status == 2, "\(run.stderr)")
        let message = "chartsync.yaml: line 2: repository \"r\": " + c.message.replacingOccurrences(of: "{{ROOT}}", with: project.path)
        #expect(run.stderr.contains(message), "\(run.stderr)")
        #expect(try server.requests().isEmpty)
        #expect(try project.snapshot() == before)
    }

    // MARK: - 4b. ... but only where a connection is made

    /// The gate, `images --check` and `bundle` open no connection, so the online host's CA and
    /// credentials files (named in the committed chart list, present only on that host) are not
    /// theirs to need: on a CI runner or in a site's extracted tree they must still work.
    @Test(arguments: [["verify"], ["images", "--check"], ["bundle", "-o", "{{OUT}}/site.bundle"]])
    func offlineCommandsDoNotNeedTheOnlineHostsAccessFiles(_ arguments: [String]) throws {
        let project = try PullProject(chartList: try String(contentsOfFile: Fixtures.packageRoot + "/chartsync.yaml", encoding: .utf8)
            .replacingOccurrences(of: "    url: examples/repo ", with: "    caFile: ~/corp-ca.pem\n    credentialsFile: ~/repo.creds\n    url: examples/repo "))
        #expect(try project.read("chartsync.yaml").contains("caFile: ~/corp-ca.pem"))
        try runCommand(["cp", "-a", Fixtures.packageRoot + "/versions.lock", Fixtures.packageRoot + "/images.lock",
                        Fixtures.packageRoot + "/charts", project.path])
        let online = try TemporaryDirectory(prefix: "chartsync-home")
        try online.write("corp-ca.pem", Array("-----BEGIN CERTIFICATE-----\n".utf8))
        try Self.credentialsFile(online, "repo.creds", username: "alice", password: "open-sesame")
        let elsewhere = try TemporaryDirectory(prefix: "chartsync-home")

        // On the online host (the files there) the command passes: the access keys do not make
        // the tree stale.
        let onlineOut = try TemporaryDirectory()
        let there = try CLI.run(arguments.map { $0.replacingOccurrences(of: "{{OUT}}", with: onlineOut.path) }, in: project.path,
                                environment: ["HOME": online.path])
        #expect(there.status == 0, "\(there.stdout)\(there.stderr)")

        // Anywhere else (CI, the site) it must pass the same.
        let out = try TemporaryDirectory()
        let before = try project.snapshot()
        let here = try CLI.run(arguments.map { $0.replacingOccurrences(of: "{{OUT}}", with: out.path) }, in: project.path,
                               environment: ["HOME": elsewhere.path])
        // The offline commands never need the online host's access files.
        #expect(here.status == 0, "\(here.stdout)\(here.stderr)")
        #expect(try project.snapshot() == before)
    }

    /// pull talks to repositories, not registries: a registry's missing caFile is not its concern.
    @Test func pullDoesNotNeedARegistrysAccessFiles() throws {
        let list = """
            repositories:
              - name: r
                url: \(Self.example)
            charts:
              - name: hello-web
                repository: r
            images:
              registries:
                - host: registry.corp.example
                  caFile: ~/registry-ca.pem

            """
        let project = try PullProject(chartList: list)
        let home = try TemporaryDirectory(prefix: "chartsync-home")
        try home.write("registry-ca.pem", Array("-----BEGIN CERTIFICATE-----\n".utf8))
        let there = try project.pull(environment: ["HOME": home.path])
        #expect(there.status == 0, "\(there.stderr)")
        try FileManager.default.removeItem(atPath: home.file("registry-ca.pem"))
        let here = try project.pull(environment: ["HOME": home.path])
        #expect(here.status == 0, "\(here.stderr)")
    }

    // MARK: - 5. Unknown certificate authority

    @Test func unknownCertificateAuthoritySuggestsCaFile() throws {
        let nginx = try StaticServer(root: Self.example, options: .init(tls: true))
        defer { nginx.stop() }
        let pki = try #require(nginx.pki)
        let project = try PullProject(chartList: Self.chartList(url: nginx.url("")))
        // What the hint suggests works: --ca-file (and caFile: below).
        let trusted = try project.pull(["--ca-file", pki.caFile])
        #expect(trusted.status == 0, "\(trusted.stderr)")
        let before = try project.snapshot()

        let run = try project.pull()
        #expect(run.status == 3, "\(run.stderr)")
        #expect(run.stderr.contains("TLS failure for \(nginx.url("index.yaml")): "), "\(run.stderr)")
        #expect(run.stderr.contains("(curl error 60); if the server uses a private certificate authority, set caFile: in the chart list or pass --ca-file"),
                "\(run.stderr)")
        #expect(!run.stderr.contains("retrying"), "\(run.stderr)")
        #expect(try project.snapshot() == before)

        try project.setChartList(Self.chartList(url: nginx.url(""), access: ["caFile: \(pki.caFile)"]))
        let listed = try project.pull()
        #expect(listed.status == 0, "\(listed.stderr)")
    }

    // MARK: - 6. --credentials-file only on search

    @Test func credentialsFileOptionOnlyWhereHonoured() throws {
        let server = try Self.exampleOnFaultServer()
        defer { server.stop() }
        let secrets = try TemporaryDirectory()
        let file = try Self.credentialsFile(secrets, username: "alice", password: "open-sesame")
        let project = try PullProject(chartList: Self.chartList(url: server.url("")))
        try runCommand(["cp", "-a", Fixtures.packageRoot + "/versions.lock", Fixtures.packageRoot + "/charts", project.path])
        let before = try project.snapshot()

        for command in ["pull", "images"] {
            let run = try CLI.run([command, "--credentials-file", file], in: project.path)
            #expect(run.status == 2, "\(command): \(run.stderr)")
            #expect(run.stderr.contains("Unknown option '--credentials-file'"), "\(command): \(run.stderr)")
            #expect(run.stdout.isEmpty)
        }
        #expect(try server.requests().isEmpty)
        #expect(try project.snapshot() == before)

        // search reads the file and sends it.
        let search = try CLI.run(["search", "--repo", server.url(""), "hello-web", "--credentials-file", file])
        #expect(search.status == 0, "\(search.stderr)")
        #expect(search.stdout.contains("1.1.0"), "\(search.stdout)")
        let expected = "Basic " + Data("alice:open-sesame".utf8).base64EncodedString()
        #expect(try server.requests(path: "/index.yaml").map(\.authorization) == [expected])
    }
}
