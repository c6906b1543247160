// Drives the official OpenAI SDK for Node against aimo's response cache: a streamed tool call
// served again as JSON, and a JSON tool call served again as a stream (read both with the raw
// chunks and with the SDK's own stream accumulator). Prints what it saw as one JSON line.
const OpenAI = require('openai');

const client = new OpenAI({ baseURL: process.env.AIMO_BASE_URL, apiKey: 'not-needed', maxRetries: 0 });
const tools = [{
  type: 'function',
  function: {
    name: 'get_weather',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
}];
const ask = (question, extra = {}) => ({
  model: 'local/llama3',
  temperature: 0,
  messages: [{ role: 'user', content: question }],
  tools,
  ...extra,
});

async function collect(stream) {
  const calls = {};
  let finish = null;
  let usage = null;
  for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
    for (const choice of chunk.choices) {
      for (const call of choice.delta.tool_calls || []) {
        const seen = calls[call.index] || (calls[call.index] = { id: '', name: '', arguments: '' });
        if (call.id) seen.id += call.id;
        if (call.function && call.function.name) seen.name += call.function.name;
        if (call.function && call.function.arguments) seen.arguments += call.function.arguments;
      }
      if (choice.finish_reason) finish = choice.finish_reason;
    }
  }
  return { calls: Object.values(calls), finish, usage };
}

async function main() {
  const out = {};
  // Stored from a stream, served as JSON.
  const first = await client.chat.completions.create(ask('weather in Paris?', { stream: true })).withResponse();
  out.stream_first = { cache: first.response.headers.get('x-aimo-cache'), ...(await collect(first.data)) };
  const second = await client.chat.completions.create(ask('weather in Paris?')).withResponse();
  const message = second.data.choices[0].message;
  out.json_second = {
    cache: second.response.headers.get('x-aimo-cache'),
    finish: second.data.choices[0].finish_reason,
    calls: message.tool_calls.map((c) => ({ id: c.id, name: c.function.name, arguments: c.function.arguments })),
  };
  // Stored from JSON, served as a stream.
  const third = await client.chat.completions.create(ask('weather in Rome?')).withResponse();
  out.json_first = { cache: third.response.headers.get('x-aimo-cache') };
  const fourth = await client.chat.completions
    .create(ask('weather in Rome?', { stream: true, stream_options: { include_usage: true } }))
    .withResponse();
  out.stream_second = { cache: fourth.response.headers.get('x-aimo-cache'), ...(await collect(fourth.data)) };
  // The SDK's accumulator checks the stream's structure and builds the completion itself.
  const runner = client.chat.completions.stream(ask('weather in Rome?'));
  const final = await runner.finalChatCompletion();
  out.accumulated = {
    finish: final.choices[0].finish_reason,
    arguments: final.choices[0].message.tool_calls[0].function.arguments,
    parsed: final.choices[0].message.tool_calls[0].function.parsed_arguments || null,
  };
  console.log(JSON.stringify(out));
}

main().catch((error) => {
  console.error(error && error.stack ? error.stack : String(error));
  process.exit(1);
});
