// Package logstore fetches Flink logs from the stores they are shipped
// to, for slotaudit to audit them as it audits files: VictoriaLogs
// (LogsQL over /select/logsql/query), Grafana Loki (LogQL over
// /loki/api/v1/query_range, spoken with net/http: no Loki module) and
// OpenSearch or Elasticsearch (_search with a point in time and
// search_after).
//
// A source is a PATH argument: victorialogs+http://HOST:9428,
// loki+https://HOST, opensearch+https://HOST/INDEX,
// elasticsearch+https://HOST/INDEX ([ParseSource]). [Client.Fetch] asks
// the store for one time range, with a filter that keeps only the records
// that can change a verdict (flinklog.PushdownWords), and writes what the
// store answers in the store's own shape: VictoriaLogs' JSON lines as
// they stream, Loki's query_range responses and OpenSearch's _search
// responses one page after another. Reading those shapes is package
// parser's.
//
// Credentials come from the environment (SLOTAUDIT_TOKEN, or
// SLOTAUDIT_USER and SLOTAUDIT_PASSWORD) or a netrc file, never from the
// command line; TLS is always verified. Throttling and server errors are
// retried a bounded number of times with exponential backoff and jitter,
// honouring Retry-After. Anything else that goes wrong (a refusal, a body
// cut short, a malformed document) is a [FetchError] that names the
// source and the time range fetched so far.
package logstore
