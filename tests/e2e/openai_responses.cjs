// Drives the official OpenAI SDK's Responses API against aimo in front of a chat-completions
// upstream: a whole answer with a function call, the same streamed and read by the SDK's own
// accumulator, the call's output sent back, and the errors. Prints what it saw as one JSON line.
const OpenAI = require('openai');

const client = new OpenAI({ baseURL: process.env.AIMO_BASE_URL, apiKey: 'not-needed', maxRetries: 0 });
const tools = [{
  type: 'function',
  name: 'get_weather',
  description: 'The weather in a city now',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  strict: false,
}];
const ask = (input, extra = {}) => ({
  model: 'local/llama3', instructions: 'Be brief.', input, tools, store: false, ...extra,
});
const question = [{ role: 'user', content: 'Weather in Paris?' }];

async function main() {
  const out = {};
  const whole = await client.responses.create(ask(question));
  out.whole = { status: whole.status, output: whole.output, usage: whole.usage };

  const stream = client.responses.stream(ask(question));
  const types = [];
  for await (const event of stream) types.push(event.type);
  const final = await stream.finalResponse();
  out.stream = { types, status: final.status, output: final.output, usage: final.usage };

  const call = final.output.find((item) => item.type === 'function_call');
  const answer = await client.responses.create(ask([
    ...question,
    { type: 'function_call', call_id: call.call_id, name: call.name, arguments: call.arguments },
    { type: 'function_call_output', call_id: call.call_id, output: '18 C and sunny' },
  ]));
  out.round_trip = { status: answer.status, text: answer.output_text };

  try {
    await client.responses.create(ask(question, { previous_response_id: whole.id }));
    out.stateful = 'no error';
  } catch (error) {
    out.stateful = { status: error.status, message: error.message };
  }
  try {
    await client.responses.create(ask(question, { model: 'local/missing' }));
    out.missing = 'no error';
  } catch (error) {
    out.missing = { status: error.status, code: error.code };
  }
  console.log(JSON.stringify(out));
}

main().catch((error) => {
  console.error(error && error.stack ? error.stack : String(error));
  process.exit(1);
});
