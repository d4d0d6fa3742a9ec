import ChartSyncTestSupport
import Foundation
import Testing

/// `chartsync search` against real nginx on 127.0.0.1 (TLS with a test CA, basic auth,
/// redirects) and the scriptable fault server, running the built binary.
@Suite struct SearchOverHTTPTests {
    static let example = Fixtures.packageRoot + "/examples/repo"

    @Test func httpsWithTestCA() throws {
        let nginx = try StaticServer(root: Self.example, options: .init(tls: true))
        defer { nginx.stop() }
        let run = try CLI.run(["search", "--repo", nginx.url(""), "hello-web", "--json", "--ca-file", nginx.caFile!])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("\"version\" : \"1.1.0\""))
        #expect(run.stdout.contains(nginx.url("hello-web-1.1.0.tgz")))
    }

    @Test func httpsWithoutTheCAFailsWithTLSError() throws {
        let nginx = try StaticServer(root: Self.example, options: .init(tls: true))
        defer { nginx.stop() }
        let run = try CLI.run(["search", "--repo", nginx.url(""), "hello-web"])
        #expect(run.status == 3)
        #expect(run.stderr.contains(nginx.url("index.yaml")), "\(run.stderr)")
        #expect(run.stderr.lowercased().contains("certificate"), "\(run.stderr)")
        #expect(!run.stderr.contains("retrying"), "TLS verification failures are not retried")
    }

    @Test func insecureSkipVerifyWarns() throws {
        let nginx = try StaticServer(root: Self.example, options: .init(tls: true))
        defer { nginx.stop() }
        let run = try CLI.run(["search", "--repo", nginx.url(""), "hello-web", "--insecure-skip-tls-verify"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("warning"), "\(run.stderr)")
        #expect(run.stdout.contains("1.1.0"))
    }

    @Test func mutualTLS() throws {
        let nginx = try StaticServer(root: Self.example, options: .init(tls: true, requireClientCertificate: true))
        defer { nginx.stop() }
        let pki = try #require(nginx.pki)
        let without = try CLI.run(["search", "--repo", nginx.url(""), "hello-web", "--ca-file", pki.caFile])
        #expect(without.status == 3)
        let with = try CLI.run(["search", "--repo", nginx.url(""), "hello-web", "--ca-file", pki.caFile,
                                "--cert-file", pki.clientCertFile, "--key-file", pki.clientKeyFile])
        #expect(with.status == 0, "\(with.stderr)")
        #expect(with.stdout.contains("1.1.0"))
        let half = try CLI.run(["search", "--repo", nginx.url(""), "hello-web", "--cert-file", pki.clientCertFile])
        #expect(half.status == 2)
    }

    @Test func basicAuthFromEnvironmentAndFile() throws {
        let nginx = try StaticServer(root: Self.example, options: .init(basicAuth: .init(username: "alice", password: "open-sesame")))
        defer { nginx.stop() }
        let denied = try CLI.run(["search", "--repo", nginx.url(""), "hello-web"])
        #expect(denied.status == 3)
        #expect(denied.stderr.contains("401"), "\(denied.stderr)")

        let env = try CLI.run(["search", "--repo", nginx.url(""), "hello-web"],
                              environment: ["CHARTSYNC_USERNAME": "alice", "CHARTSYNC_PASSWORD": "open-sesame"])
        #expect(env.status == 0, "\(env.stderr)")
        #expect(env.stdout.contains("1.1.0"))

        let dir = try TemporaryDirectory()
        let file = try dir.write("creds", Array("# repository login\nusername: alice\npassword: open-sesame\n".utf8))
        chmod(file, 0o600)
        let fromFile = try CLI.run(["search", "--repo", nginx.url(""), "hello-web", "--credentials-file", file, "--json"])
        #expect(fromFile.status == 0, "\(fromFile.stderr)")
        for run in [denied, env, fromFile] {
            #expect(!run.stdout.contains("open-sesame") && !run.stderr.contains("open-sesame"))
        }

        let wrong = try CLI.run(["search", "--repo", nginx.url(""), "hello-web"],
                                environment: ["CHARTSYNC_USERNAME": "alice", "CHARTSYNC_PASSWORD": "wrong-password"])
        #expect(wrong.status == 3)
        #expect(!wrong.stderr.contains("wrong-password"))
    }

    @Test func worldReadableCredentialsFileIsRefused() throws {
        let dir = try TemporaryDirectory()
        let file = try dir.write("creds", Array("token: abcdefgh\n".utf8))
        chmod(file, 0o644)
        let run = try CLI.run(["search", "--repo", "examples/repo", "hello-web", "--credentials-file", file])
        #expect(run.status == 2)
        #expect(run.stderr.contains(file), "\(run.stderr)")
        #expect(!run.stderr.contains("abcdefgh"))
    }

    /// The repository redirects to another host name; the credentials stay behind.
    @Test func redirectToAnotherHostDropsCredentials() throws {
        let faults = try FaultServer()
        defer { faults.stop() }
        let index = try Data(contentsOf: URL(fileURLWithPath: Self.example + "/index.yaml"))
        try faults.plan("/charts/index.yaml", .redirect(to: faults.url("/mirror/index.yaml", host: "localhost")))
        try faults.plan("/mirror/index.yaml", .ok(Array(index)))
        let env = ["CHARTSYNC_TOKEN": "tok-123456"]
        let run = try CLI.run(["search", "--repo", faults.url("/charts"), "hello-web"], environment: env)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try faults.requests(path: "/charts/index.yaml").first?.authorization == "Bearer tok-123456")
        #expect(try faults.requests(path: "/mirror/index.yaml").first?.authorization == nil)

        try faults.clear()
        try faults.plan("/charts/index.yaml", .redirect(to: faults.url("/mirror/index.yaml", host: "localhost")))
        try faults.plan("/mirror/index.yaml", .ok(Array(index)))
        let passing = try CLI.run(["search", "--repo", faults.url("/charts"), "hello-web", "--pass-credentials"], environment: env)
        #expect(passing.status == 0, "\(passing.stderr)")
        #expect(try faults.requests(path: "/mirror/index.yaml").first?.authorization == "Bearer tok-123456")
    }

    @Test func serverErrorThenSuccessIsRetried() throws {
        let faults = try FaultServer()
        defer { faults.stop() }
        let index = try Data(contentsOf: URL(fileURLWithPath: Self.example + "/index.yaml"))
        try faults.plan("/index.yaml", .status(500), .ok(Array(index)))
        let run = try CLI.run(["search", "--repo", faults.url(""), "hello-web"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("retrying"), "\(run.stderr)")
        #expect(try faults.requests(path: "/index.yaml").count == 2)
    }

    @Test func notFoundIsNotRetried() throws {
        let faults = try FaultServer()
        defer { faults.stop() }
        try faults.plan("/index.yaml", .status(404))
        let run = try CLI.run(["search", "--repo", faults.url(""), "hello-web"])
        #expect(run.status == 3)
        #expect(run.stderr.contains("404"), "\(run.stderr)")
        #expect(try faults.requests(path: "/index.yaml").count == 1)
    }

    /// Proxies come from the standard environment variables (libcurl's own handling).
    @Test func proxyFromEnvironment() throws {
        let proxy = try FaultServer()
        defer { proxy.stop() }
        let index = try Data(contentsOf: URL(fileURLWithPath: Self.example + "/index.yaml"))
        // A forward proxy receives the absolute URL as the request target.
        try proxy.plan("http://charts.example.invalid/helm/index.yaml", .ok(Array(index)))
        let run = try CLI.run(["search", "--repo", "http://charts.example.invalid/helm", "hello-web", "--json"],
                              environment: ["http_proxy": proxy.url("")])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("http://charts.example.invalid/helm/hello-web-1.1.0.tgz"))
        #expect(try proxy.requests().map(\.path) == ["http://charts.example.invalid/helm/index.yaml"])
    }

    /// Real upstream data: argo-helm's full index (relative URLs) served by nginx.
    @Test func argoIndexResolvesRelativeURLsAgainstTheServer() throws {
        let nginx = try StaticServer(root: Fixtures.path("repo-argo-helm"))
        defer { nginx.stop() }
        let run = try CLI.run(["search", "--repo", nginx.url(""), "argo-cd", "--version", "0.1.0", "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains(nginx.url("argo-cd-0.1.0.tgz")), "\(run.stdout)")
        let workflows = try CLI.run(["search", "--repo", nginx.url(""), "argo-workflows", "--version", "0.46.00", "--json"])
        #expect(workflows.stdout.contains("\"version\" : \"0.46.00\""), "\(workflows.stdout)")
    }
}

/// The `Searcher`'s limits seen through the built binary, against a real server (the library's
/// own limit tests are ChartSyncTests' `SearcherLimitTests`).
@Suite struct SearcherLimitTests {
    @Test func aliasBombOverHTTPIsRefusedWithTheURL() throws {
        var text = "apiVersion: v1\nentries:\n  a:\n  - name: a\n    version: 1.0.0\n    keywords: &k0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...9 {
            text += "    x\(level): &k\(level) [" + Array(repeating: "*k\(level - 1)", count: 10).joined(separator: ", ") + "]\n"
        }
        let www = try TemporaryDirectory()
        try www.write("index.yaml", Array(text.utf8))
        let nginx = try StaticServer(root: www.path)
        defer { nginx.stop() }
        let run = try CLI.run(["search", "--repo", nginx.url(""), "a"])
        #expect(run.status == 3)
        #expect(run.stderr.contains(nginx.url("index.yaml")) && run.stderr.contains("alias bomb"), "\(run.stderr)")
    }
}
