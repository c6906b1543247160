// Drives the official Anthropic SDK for Node against aimo's /v1/messages in front of a
// chat-completions upstream: a whole answer with a tool call, the same as a stream read by the
// SDK's own accumulator, the tool's result sent back, an error, and count_tokens. Prints what it
// saw as one JSON line.
const sdk = require('@anthropic-ai/sdk');
const Anthropic = sdk.Anthropic || sdk.default;

const client = new Anthropic({ baseURL: process.env.AIMO_ORIGIN, apiKey: 'sk-ant-local', maxRetries: 0 });
const tools = [{
  name: 'get_weather',
  description: 'The weather in a city now',
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
}];
const question = { role: 'user', content: 'Weather in Paris?' };
const ask = (messages, extra = {}) => ({
  model: 'local/llama3', max_tokens: 200, system: 'Be brief.', tools, messages, ...extra,
});

async function main() {
  const out = {};
  const whole = await client.messages.create(ask([question]));
  out.whole = { stop_reason: whole.stop_reason, content: whole.content, usage: whole.usage };

  const stream = client.messages.stream(ask([question]));
  const types = [];
  for await (const event of stream) types.push(event.type);
  const final = await stream.finalMessage();
  out.stream = { types, stop_reason: final.stop_reason, content: final.content, usage: final.usage };

  const call = final.content.find((block) => block.type === 'tool_use');
  const answer = await client.messages.create(ask([
    question,
    { role: 'assistant', content: final.content },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: '18 C and sunny' }] },
  ]));
  out.round_trip = { stop_reason: answer.stop_reason, text: answer.content[0].text };

  try {
    await client.messages.create(ask([question], { model: 'local/missing' }));
    out.error = 'no error';
  } catch (error) {
    out.error = {
      status: error.status,
      not_found: error instanceof Anthropic.NotFoundError,
      type: error.error && error.error.error && error.error.error.type,
    };
  }
  const counted = await client.messages.countTokens({ model: 'local/llama3', messages: [question] });
  out.count = counted.input_tokens;
  console.log(JSON.stringify(out));
}

main().catch((error) => {
  console.error(error && error.stack ? error.stack : String(error));
  process.exit(1);
});
