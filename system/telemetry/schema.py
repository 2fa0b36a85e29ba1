"""Span and attribute names of the system's trace schema.

This module is the system's single source for these names; docs/tracing.md
is the contract, and the tester keeps its own copy of the names.
"""

# Resource
SERVICE_ORCHESTRATOR = "orchestrator"
SERVICE_PRODUCER = "producer"
SERVICE_WEBSERVER = "webserver"
RES_SERVICE_NAME = "service.name"  # the process's role: one of the three above
RES_SERVICE_INSTANCE_ID = "service.instance.id"
RES_SERVICE_NAMESPACE = "service.namespace"
RES_SERVICE_VERSION = "service.version"
RES_PRODUCER_ID = "producer.id"

# Orchestrator spans
SPAN_TOPIC_RUN = "topic.run"
SPAN_PRODUCER_SPAWN = "producer.spawn"
SPAN_PRODUCER_LOST = "producer.lost"
SPAN_CONNECTION_REJECTED = "connection.rejected"
SPAN_BATCH_RECEIVE = "batch.receive"
SPAN_FILE_APPEND = "file.append"
SPAN_PRODUCERS_STOP = "producers.stop"
PRODUCERS_CONNECTED = "producers.connected"  # on producers.stop: producers sent Stop

# Producer spans
SPAN_PRODUCER_RUN = "producer.run"
SPAN_GENERATION_CYCLE = "generation.cycle"
# LLM calls follow the GenAI conventions: "chat {gen_ai.request.model}"
GENAI_OPERATION_CHAT = "chat"

# topic.run attributes
TOPIC_NAME = "topic.name"
TOPIC_SLUG = "topic.slug"
RUN_ID = "run.id"
RUN_PRODUCERS = "run.producers"
RUN_ITERATIONS = "run.iterations"  # -1 = unlimited
RUN_REQUEST_SIZE = "run.request_size"
RUN_PROVIDER = "run.provider"
RUN_OUTPUT_FILE = "run.output_file"
RUN_STATUS = "run.status"  # completed | stopped | failed
RUN_STOP_REASON = "run.stop_reason"
RUN_UNIQUE = "run.unique_count"  # uniques found by this run (excludes resumed)
RUN_RESUMED = "run.resumed_count"  # uniques already in the file at start
RUN_CANDIDATES = "run.candidate_count"
RUN_DUPLICATES = "run.duplicate_count"
RUN_REJECTED = "run.rejected_count"
RUN_BATCHES = "run.batch_count"
RUN_RESTARTS = "run.restart_count"

# per-producer attributes
PRODUCER_ID = "producer.id"
PRODUCER_RESTART = "producer.restart"  # spawn number of this slot, 0 = first
PROCESS_PID = "process.pid"
#: topic.run event: a producer not heard from (heartbeats, batches) for too long
EVENT_PRODUCER_SILENT = "producer.silent"
PRODUCER_SILENT_S = "producer.silent_s"
PRODUCER_ACTION = "producer.action"  # reported | killed
PROCESS_EXIT_CODE = "process.exit.code"
PRODUCER_STOP_REASON = "producer.stop_reason"
PRODUCER_ITERATIONS = "producer.iterations"

# batch attributes
BATCH_SEQ = "batch.seq"
BATCH_CANDIDATES = "batch.candidates"
BATCH_NEW = "batch.new"
BATCH_DUPLICATES = "batch.duplicates"
BATCH_REJECTED = "batch.rejected"
FILE_PATH = "file.path"
FILE_LINES = "file.lines_written"
FILE_BYTES = "file.bytes_written"
CYCLE_ITERATION = "generation.iteration"
CYCLE_CANDIDATES = "generation.candidates"

# connection rejection
REJECT_REASON = "connection.reject_reason"
NET_PEER_ADDRESS = "network.peer.address"

# GenAI semantic conventions
GENAI_OPERATION_NAME = "gen_ai.operation.name"
GENAI_PROVIDER_NAME = "gen_ai.provider.name"
GENAI_REQUEST_MODEL = "gen_ai.request.model"
GENAI_RESPONSE_MODEL = "gen_ai.response.model"
GENAI_INPUT_TOKENS = "gen_ai.usage.input_tokens"
GENAI_OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
GENAI_FINISH_REASONS = "gen_ai.response.finish_reasons"
GENAI_REQUEST_MAX_TOKENS = "gen_ai.request.max_tokens"
GENAI_REQUEST_TEMPERATURE = "gen_ai.request.temperature"
GENAI_REQUEST_TOP_P = "gen_ai.request.top_p"
GENAI_REQUEST_SEED = "gen_ai.request.seed"
GENAI_RESPONSE_ID = "gen_ai.response.id"
#: chat span: attempts of the request; its llm.attempt events, one per HTTP request
LLM_ATTEMPTS = "llm.attempts"
LLM_CANCELLED = "llm.cancelled"  # the request was cancelled by a stop
ERROR_CANCELLED = "cancelled"  # error.type of an attempt cut off by a stop
EVENT_ATTEMPT = "llm.attempt"
LLM_LATENCY_MS = "llm.latency_ms"
ERROR_TYPE = "error.type"

# Web mode: control channel (webserver -> orchestrator). Each request is a
# server span "control.<op>" continuing the webserver's HTTP span; a start
# request is the exception: its topic.run is the HTTP span's direct child.
SPAN_CONTROL_PREFIX = "control."
SPAN_CONTROL_REJECTED = "control.rejected"
CONTROL_OP = "control.op"
CONTROL_STATUS = "control.status_code"
SERVER_ADDRESS = "server.address"
SERVER_PORT = "server.port"
GENAI_INPUT_MESSAGES = "gen_ai.input.messages"  # only with --record-content, truncated
GENAI_OUTPUT_MESSAGES = "gen_ai.output.messages"  # only with --record-content, truncated

# Resilience: generation.cycle attributes and events (docs/tracing.md)
CYCLE_PROVIDER = "generation.provider"  # the provider (spec name) that answered
CYCLE_ATTEMPTS = "generation.attempts"  # LLM attempts this cycle, retries included
CYCLE_DEGRADED = "generation.degraded"  # true: no provider was available
EVENT_RETRY = "llm.retry"
EVENT_FAILOVER = "llm.failover"
EVENT_RATE_LIMIT_WAIT = "rate_limit.wait"
EVENT_BREAKER_CHANGE = "breaker.state_change"
EVENT_UNAVAILABLE = "providers.unavailable"
EVENT_PROVIDER_DISABLED = "llm.provider_disabled"  # a refused key: out for the whole run
LLM_RETRY_AFTER_S = "llm.retry_after_s"  # on a failed llm.attempt: the Retry-After honoured
LLM_PROVIDER = "llm.provider"
LLM_ATTEMPT = "llm.attempt"
LLM_DELAY_S = "llm.delay_s"
FAILOVER_FROM = "llm.failover.from"
FAILOVER_TO = "llm.failover.to"
BREAKER_FROM = "breaker.from"
BREAKER_TO = "breaker.to"
PRODUCER_LLM_STATS = "producer.llm_stats"  # JSON: per provider requests, failures, ...

# Discovery-efficiency levers (docs/tracing.md "Levers")
RUN_LEVERS = "run.levers"  # comma-separated: shared_state, partitions, prefilter, ...
RUN_PREFILTERED = "run.prefiltered_count"  # candidates producers dropped as known
RUN_NEAR_DUPLICATES = "run.near_duplicate_count"
RUN_NOVELTY = "run.novelty"  # new per candidate over the final sliding window
RUN_DELTA_PUSHES = "run.delta_pushes"  # UpdateConfiguration messages carrying new uniques
CYCLE_PREFILTERED = "generation.prefiltered"
CYCLE_PARTITION = "generation.partition"
CYCLE_AVOIDED = "generation.avoid_items"  # items named in the prompt's avoid list
CYCLE_ARM = "generation.arm"  # the adaptive strategy's arm the answering request used
CYCLE_ECHOES = "generation.echoes"  # answer lines that repeat the prompt
CYCLE_OFF_PARTITION = "generation.off_partition"  # candidates outside the named partition
BATCH_PREFILTERED = "batch.prefiltered"
BATCH_NEAR_DUPLICATES = "batch.near_duplicates"
BATCH_PARTITION = "batch.partition"
BATCH_STRATEGY = "batch.strategy"
BATCH_INPUT_TOKENS = "batch.input_tokens"
BATCH_OUTPUT_TOKENS = "batch.output_tokens"
# events on topic.run
EVENT_PARTITION = "partition.change"
PARTITION_ACTION = "partition.action"  # retire | split | assign | whole_topic
PARTITION_LABEL = "partition.label"
PARTITION_PRODUCERS = "partition.producers"  # JSON: producer id -> new label
PARTITION_DETAIL = "partition.detail"
EVENT_STRATEGY = "strategy.decision"
STRATEGY_NAME = "strategy.name"
STRATEGY_PROVIDER = "strategy.provider"  # the provider the decision is for
EVENT_STRATEGY_DROP = "strategy.arm_dropped"
STRATEGY_ARM = "strategy.arm"
STRATEGY_REASON = "strategy.reason"
STRATEGY_PRODUCERS = "strategy.producers"  # JSON: producer id -> strategy
STRATEGY_YIELDS = "strategy.yields"  # JSON: per strategy requests, new/request, new/1k tokens
EVENT_SATURATED = "run.saturated"
SATURATION_RATE = "saturation.novelty"
SATURATION_WINDOW = "saturation.window_candidates"
SATURATION_REQUESTS_BELOW = "saturation.requests_below"
SATURATION_SECONDS_BELOW = "saturation.seconds_below"

# --adaptive-weights: an event on topic.run each time the weights move
EVENT_PROVIDERS_REWEIGHT = "providers.reweight"
PROVIDER_WEIGHTS = "providers.weights"  # JSON: provider name -> weight

# --partition-by subtopics (docs/tracing.md "Sub-topic partitions")
SPAN_SUBTOPICS_PROPOSE = "subtopics.propose"  # producer: one LLM request for sub-topics
SUBTOPICS_ROUND = "subtopics.round"  # 1, 2, ... (the request id)
SUBTOPICS_COUNT = "subtopics.count"  # sub-topics asked for
SUBTOPICS_EXCLUDED = "subtopics.excluded"  # labels the prompt says are taken
SUBTOPICS_LABELS = "subtopics.labels"  # JSON list of the labels proposed
SUBTOPICS_PROPOSED = "subtopics.proposed_count"  # usable labels in the answer
SUBTOPICS_REASON = "subtopics.reason"  # why a request failed
SUBTOPICS_FALLBACK = "subtopics.fallback"  # letters | none
# events on topic.run
EVENT_SUBTOPICS_REQUEST = "subtopics.request"
EVENT_SUBTOPICS_PROPOSED = "subtopics.proposed"
EVENT_SUBTOPICS_FAILED = "subtopics.failed"

# Completeness estimate (docs/tracing.md "Completeness"): event attributes on
# topic.run, and the same names as topic.run attributes at its end
EVENT_COVERAGE = "coverage.estimate"  # the estimate moved
EVENT_COVERED = "run.covered"  # --target-coverage reached: the run stops
COVERAGE_ESTIMATE = "coverage.estimate"  # found / estimated universe
COVERAGE_STOP_LOW = "coverage.stop_low"  # run.covered: the one-sided 90% lower bound
COVERAGE_LOW = "coverage.low"  # 95% interval of the coverage
COVERAGE_HIGH = "coverage.high"
COVERAGE_UNIVERSE = "coverage.universe"  # estimated reachable universe (items)
COVERAGE_UNIVERSE_LOW = "coverage.universe_low"
COVERAGE_UNIVERSE_HIGH = "coverage.universe_high"
COVERAGE_FOUND = "coverage.found"  # items found when estimated
COVERAGE_RUN_REQUESTS = "coverage.run_requests"  # all requests of the run so far (events)
COVERAGE_REQUESTS = "coverage.requests"  # requests in the sample
COVERAGE_BASIS = "coverage.basis"  # the sample: all (every request)
COVERAGE_SAMPLE = "coverage.sample_coverage"  # Good-Turing: share of answer mass seen
COVERAGE_SINGLETONS = "coverage.singletons"  # Q1
COVERAGE_DOUBLETONS = "coverage.doubletons"  # Q2
BATCH_REPEATS = "batch.repeats"  # pre-filtered repeats counted as sightings
