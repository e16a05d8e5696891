import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

/**
 * The billing service of the examples (jobs/services/billing.yaml), a bare JVM
 * process under Nomad's java driver. HTTP on -Dserver.port (Spring's property
 * name): /actuator/health/liveness for Consul, / for Fabio's /billing/ route. gRPC
 * on --grpc.port: the standard health service (grpc.health.v1.Health/Check) over
 * cleartext HTTP/2, answering SERVING for "" and "billing.v1.Billing", which is
 * what Consul's grpc check calls. No library but the JDK: the HTTP/2 framing it
 * needs is written out below. It is ready only with its secrets (STRIPE_API_KEY
 * and secrets/keystore.p12 from Vault), which it never prints.
 */
public final class Billing {
    static final String VERSION = "4.2.1";

    public static void main(String[] args) throws Exception {
        int httpPort = Integer.parseInt(System.getProperty("server.port", "8080"));
        int grpcPort = 9090;
        for (String a : args) {
            if (a.startsWith("--grpc.port=")) grpcPort = Integer.parseInt(a.substring("--grpc.port=".length()));
        }
        String host = System.getenv().getOrDefault("NOMAD_IP_http", "127.0.0.1");
        HttpServer http = HttpServer.create(new InetSocketAddress(host, httpPort), 64);
        http.createContext("/actuator/health/liveness", ex -> reply(ex, 200, "{\"status\":\"UP\"}"));
        http.createContext("/actuator/health/readiness", ex -> {
            boolean ready = missing().isEmpty();
            reply(ex, ready ? 200 : 503, ready ? "{\"status\":\"UP\"}" : "{\"status\":\"OUT_OF_SERVICE\",\"missing\":\"" + missing() + "\"}");
        });
        http.createContext("/", ex -> {
            if (!ex.getRequestURI().getPath().equals("/")) reply(ex, 404, "{\"error\":\"not found\"}");
            else reply(ex, 200, "{\"service\":\"billing\",\"version\":\"" + VERSION + "\",\"profile\":\"" + System.getenv().getOrDefault("SPRING_PROFILES_ACTIVE", "") + "\"}");
        });
        http.start();
        ServerSocket grpc = new ServerSocket(grpcPort, 64, InetAddress.getByName(host));
        System.out.println("billing " + VERSION + ": http on " + host + ":" + httpPort + ", grpc on " + host + ":" + grpcPort + ", missing: " + missing());
        while (true) {
            Socket s = grpc.accept();
            Thread t = new Thread(() -> serveGrpc(s));
            t.setDaemon(true);
            t.start();
        }
    }

    static String missing() {
        StringBuilder m = new StringBuilder();
        String key = System.getenv("STRIPE_API_KEY");
        if (key == null || key.isEmpty()) m.append("STRIPE_API_KEY ");
        String secrets = System.getenv().getOrDefault("NOMAD_SECRETS_DIR", "secrets");
        if (!Files.exists(Path.of(secrets, "keystore.p12"))) m.append("secrets/keystore.p12");
        return m.toString().trim();
    }

    static void reply(HttpExchange ex, int code, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(code, b.length);
        try (OutputStream o = ex.getResponseBody()) {
            o.write(b);
        }
    }

    // HTTP/2 frame types and flags (RFC 9113).
    static final int DATA = 0, HEADERS = 1, SETTINGS = 4, PING = 6, GOAWAY = 7;
    static final int END_STREAM = 1, ACK = 1, END_HEADERS = 4;

    /** One HTTP/2 connection: every request on it is a health check, answered SERVING. */
    static void serveGrpc(Socket s) {
        try (s) {
            DataInputStream in = new DataInputStream(s.getInputStream());
            OutputStream out = s.getOutputStream();
            byte[] preface = new byte[24];
            in.readFully(preface);
            if (!new String(preface, StandardCharsets.US_ASCII).equals("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")) return;
            frame(out, SETTINGS, 0, 0, new byte[0]);
            Set<Integer> open = new HashSet<>();
            while (true) {
                int len = (in.readUnsignedByte() << 16) | (in.readUnsignedByte() << 8) | in.readUnsignedByte();
                int type = in.readUnsignedByte();
                int flags = in.readUnsignedByte();
                int stream = in.readInt() & 0x7fffffff;
                byte[] payload = new byte[len];
                in.readFully(payload);
                if (type == SETTINGS && (flags & ACK) == 0) frame(out, SETTINGS, ACK, 0, new byte[0]);
                else if (type == PING && (flags & ACK) == 0) frame(out, PING, ACK, 0, payload);
                else if (type == GOAWAY) return;
                else if (type == HEADERS) open.add(stream);
                if ((type == HEADERS || type == DATA) && (flags & END_STREAM) != 0 && open.remove(stream)) answer(out, stream);
            }
        } catch (IOException e) {
            // The client closed the connection: nothing to do.
        }
    }

    /** :status 200, content-type application/grpc; one message {status: SERVING}; trailers grpc-status 0. */
    static void answer(OutputStream out, int stream) throws IOException {
        byte[] ct = "application/grpc".getBytes(StandardCharsets.US_ASCII);
        byte[] headers = new byte[3 + 1 + ct.length];
        headers[0] = (byte) 0x88; // indexed :status 200
        headers[1] = 0x0f; // literal without indexing, name index 31 (content-type) = 15 + 16
        headers[2] = 0x10;
        headers[3] = (byte) ct.length;
        System.arraycopy(ct, 0, headers, 4, ct.length);
        frame(out, HEADERS, END_HEADERS, stream, headers);
        frame(out, DATA, 0, stream, new byte[] {0, 0, 0, 0, 2, 0x08, 0x01});
        byte[] name = "grpc-status".getBytes(StandardCharsets.US_ASCII);
        byte[] trailers = new byte[2 + name.length + 2];
        trailers[0] = 0x00; // literal without indexing, new name
        trailers[1] = (byte) name.length;
        System.arraycopy(name, 0, trailers, 2, name.length);
        trailers[2 + name.length] = 1;
        trailers[3 + name.length] = '0';
        frame(out, HEADERS, END_HEADERS | END_STREAM, stream, trailers);
        out.flush();
    }

    static synchronized void frame(OutputStream out, int type, int flags, int stream, byte[] payload) throws IOException {
        byte[] h = {
            (byte) (payload.length >>> 16), (byte) (payload.length >>> 8), (byte) payload.length, (byte) type, (byte) flags,
            (byte) (stream >>> 24), (byte) (stream >>> 16), (byte) (stream >>> 8), (byte) stream
        };
        out.write(h);
        out.write(payload);
        out.flush();
    }
}
