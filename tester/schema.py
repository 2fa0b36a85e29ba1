"""The span schema as the tester knows it (docs/tracing.md is the contract).

Kept separately from the system's own copy on purpose: the tester judges the
system only through its documented interfaces.
"""

SERVICE_ORCHESTRATOR = "orchestrator"
SERVICE_PRODUCER = "producer"
SERVICE_WEBSERVER = "webserver"
KNOWN_SERVICES = frozenset({SERVICE_ORCHESTRATOR, SERVICE_PRODUCER, SERVICE_WEBSERVER})

TOPIC_RUN = "topic.run"
PRODUCER_SPAWN = "producer.spawn"
PRODUCER_LOST = "producer.lost"
CONNECTION_REJECTED = "connection.rejected"
BATCH_RECEIVE = "batch.receive"
FILE_APPEND = "file.append"
PRODUCERS_STOP = "producers.stop"
PRODUCER_RUN = "producer.run"
GENERATION_CYCLE = "generation.cycle"
CHAT_PREFIX = "chat "

TOPIC_NAME = "topic.name"
RUN_ID = "run.id"
RUN_STATUS = "run.status"
RUN_STOP_REASON = "run.stop_reason"
RUN_PRODUCERS = "run.producers"
RUN_ITERATIONS = "run.iterations"
RUN_OUTPUT_FILE = "run.output_file"
RUN_UNIQUE = "run.unique_count"
RUN_RESUMED = "run.resumed_count"
RUN_CANDIDATES = "run.candidate_count"
RUN_DUPLICATES = "run.duplicate_count"
RUN_BATCHES = "run.batch_count"
RUN_RESTARTS = "run.restart_count"

PRODUCER_ID = "producer.id"
PRODUCER_RESTART = "producer.restart"
PRODUCER_STOP_REASON = "producer.stop_reason"
PRODUCER_ITERATIONS = "producer.iterations"
BATCH_CANDIDATES = "batch.candidates"
BATCH_NEW = "batch.new"
BATCH_DUPLICATES = "batch.duplicates"
FILE_LINES = "file.lines_written"

GENAI_REQUIRED = (
    "gen_ai.operation.name",
    "gen_ai.provider.name",
    "gen_ai.request.model",
)
GENAI_RESPONSE = (
    "gen_ai.response.model",
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.output_tokens",
)

# LLM providers (docs/tracing.md, "chat" spans and resilience events)
GENAI_OPERATION_NAME = "gen_ai.operation.name"
GENAI_PROVIDER_NAME = "gen_ai.provider.name"
GENAI_REQUEST_MODEL = "gen_ai.request.model"
GENAI_RESPONSE_MODEL = "gen_ai.response.model"
GENAI_INPUT_TOKENS = "gen_ai.usage.input_tokens"
GENAI_OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
GENAI_FINISH_REASONS = "gen_ai.response.finish_reasons"
GENAI_RESPONSE_ID = "gen_ai.response.id"
GENAI_REQUEST_TEMPERATURE = "gen_ai.request.temperature"
GENAI_REQUEST_TOP_P = "gen_ai.request.top_p"
GENAI_REQUEST_SEED = "gen_ai.request.seed"
GENAI_REQUEST_MAX_TOKENS = "gen_ai.request.max_tokens"
GENAI_OUTPUT_MESSAGES = "gen_ai.output.messages"
# one chat span per request (all its attempts); one llm.attempt event per HTTP request
LLM_ATTEMPTS = "llm.attempts"
LLM_CANCELLED = "llm.cancelled"  # the request was cancelled by a stop
ERROR_CANCELLED = "cancelled"  # error.type of an attempt cut off by a stop
EVENT_ATTEMPT = "llm.attempt"
LLM_LATENCY_MS = "llm.latency_ms"
ERROR_TYPE = "error.type"
SERVER_ADDRESS = "server.address"
SERVER_PORT = "server.port"
CYCLE_PROVIDER = "generation.provider"
CYCLE_ATTEMPTS = "generation.attempts"
CYCLE_DEGRADED = "generation.degraded"
EVENT_RETRY = "llm.retry"
EVENT_FAILOVER = "llm.failover"
EVENT_RATE_LIMIT_WAIT = "rate_limit.wait"
EVENT_BREAKER_CHANGE = "breaker.state_change"
EVENT_UNAVAILABLE = "providers.unavailable"
LLM_PROVIDER = "llm.provider"
LLM_ATTEMPT = "llm.attempt"
LLM_DELAY_S = "llm.delay_s"
FAILOVER_FROM = "llm.failover.from"
FAILOVER_TO = "llm.failover.to"
BREAKER_FROM = "breaker.from"
BREAKER_TO = "breaker.to"

# Web mode (docs/tracing.md, "Web mode"): the webserver's HTTP server spans
# follow the HTTP semantic conventions; the orchestrator answers each control
# request with a "control.<op>" span, except start, whose topic.run is the
# HTTP span's direct child.
HTTP_METHOD = "http.request.method"
HTTP_ROUTE = "http.route"
HTTP_STATUS = "http.response.status_code"
URL_PATH = "url.path"
URL_SCHEME = "url.scheme"
CONTROL_PREFIX = "control."
CONTROL_OP = "control.op"
CONTROL_STATUS = "control.status_code"

# Efficiency levers (docs/tracing.md "Efficiency levers")
GENERATION_PARTITION = "generation.partition"
EVENT_PARTITION = "partition.change"
PARTITION_ACTION = "partition.action"
PARTITION_LABEL = "partition.label"
PARTITION_PRODUCERS = "partition.producers"

# --partition-by subtopics (docs/tracing.md "Sub-topic partitions")
SUBTOPICS_PROPOSE = "subtopics.propose"
SUBTOPICS_ROUND = "subtopics.round"
SUBTOPICS_COUNT = "subtopics.count"
SUBTOPICS_EXCLUDED = "subtopics.excluded"
SUBTOPICS_LABELS = "subtopics.labels"
SUBTOPICS_PROPOSED = "subtopics.proposed_count"
SUBTOPICS_REASON = "subtopics.reason"
SUBTOPICS_FALLBACK = "subtopics.fallback"
EVENT_SUBTOPICS_REQUEST = "subtopics.request"
EVENT_SUBTOPICS_PROPOSED = "subtopics.proposed"
EVENT_SUBTOPICS_FAILED = "subtopics.failed"

# Completeness estimate (docs/tracing.md "Completeness")
EVENT_COVERAGE = "coverage.estimate"
EVENT_COVERED = "run.covered"
COVERAGE_ESTIMATE = "coverage.estimate"
COVERAGE_STOP_LOW = "coverage.stop_low"  # run.covered: the judged bound (95% low end, window)
COVERAGE_LOW = "coverage.low"
COVERAGE_HIGH = "coverage.high"
COVERAGE_UNIVERSE = "coverage.universe"
COVERAGE_UNIVERSE_LOW = "coverage.universe_low"
COVERAGE_UNIVERSE_HIGH = "coverage.universe_high"
COVERAGE_FOUND = "coverage.found"
COVERAGE_RUN_REQUESTS = "coverage.run_requests"  # all requests of the run so far (events)
COVERAGE_REQUESTS = "coverage.requests"
COVERAGE_BASIS = "coverage.basis"
COVERAGE_SAMPLE = "coverage.sample_coverage"
