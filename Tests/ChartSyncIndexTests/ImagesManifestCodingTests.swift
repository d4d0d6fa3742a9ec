import ChartSyncCore
import ChartSyncIndex
import Testing

/// images.lock text: sorted, stable, read back strictly.
@Suite struct ImagesManifestCodingTests {
    private func image(_ text: String, _ charts: [String], extra: Bool = false) throws -> ImagesManifest.Image {
        ImagesManifest.Image(reference: try ImageReference(parsing: text), charts: charts, extra: extra)
    }

    @Test func textIsSortedAndReadsBack() throws {
        let digest = "sha256:" + String(repeating: "d", count: 64)
        let manifest = ImagesManifest(images: [
            try image("quay.io/argoproj/argocd:v2.10.4", ["argo-cd"]),
            try image("nginx:1.25.4@" + digest, ["hello-web", "hello-common", "hello-web"]),
            try image("busybox:1.36", [], extra: true),
        ])
        let text = ImagesManifestCoding.text(manifest)
        #expect(text == """
            # images.lock: the container images the vendored charts use; written by `chartsync images`, do not edit by hand.
            imagesVersion: 1
            images:
              - image: "docker.io/library/busybox:1.36"
                extra: true
              - image: "docker.io/library/nginx:1.25.4@\(digest)"
                charts:
                  - hello-common
                  - hello-web
              - image: "quay.io/argoproj/argocd:v2.10.4"
                charts:
                  - argo-cd

            """)
        let back = try ImagesManifestCoding.parse(Array(text.utf8), source: "images.lock")
        #expect(back == manifest)
        #expect(back.unpinned.images[1].reference.description == "docker.io/library/nginx:1.25.4")
        #expect(ImagesManifestCoding.text(ImagesManifest(images: [])).hasSuffix("images: []\n"))
    }

    @Test(arguments: [
        ("imagesVersion: 2\nimages: []\n", "imagesVersion must be 1"),
        ("imagesVersion: 1\nimages:\n  - image: nginx:1\n    tag: x\n", "unknown field \"tag\""),
        ("imagesVersion: 1\nimages:\n  - image: \"nginx:\"\n", "invalid image reference"),
        ("imagesVersion: 1\nimages:\n  - image: nginx:1\n  - image: docker.io/library/nginx:1\n", "listed twice"),
        ("imagesVersion: 1\nimages:\n  - charts: [a]\n", "needs image"),
    ])
    func refused(_ text: String, _ message: String) {
        #expect {
            try ImagesManifestCoding.parse(Array(text.utf8), source: "images.lock")
        } throws: { error in
            "\(error)".contains(message)
        }
    }
}
