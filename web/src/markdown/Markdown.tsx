// Renders parsed markdown as React elements. Text always goes through React's escaping and the
// only attributes ever set are the ones written here, so message content cannot inject markup.
import { memo, type ReactNode } from 'react';
import { parseMarkdown, type BlockNode, type InlineNode } from './parse';

function renderInline(nodes: InlineNode[]): ReactNode[] {
  return nodes.map((node, index) => {
    switch (node.type) {
      case 'text':
        return node.text;
      case 'br':
        return <br key={index} />;
      case 'code':
        return <code key={index} className="md-code">{node.text}</code>;
      case 'strong':
        return <strong key={index}>{renderInline(node.children)}</strong>;
      case 'em':
        return <em key={index}>{renderInline(node.children)}</em>;
      case 'strike':
        return <del key={index}>{renderInline(node.children)}</del>;
      case 'link':
        return (
          <a key={index} className="md-link" href={node.href} target="_blank" rel="noopener noreferrer">
            {renderInline(node.children)}
          </a>
        );
    }
  });
}

function renderBlocks(blocks: BlockNode[], trailing?: ReactNode): ReactNode[] {
  return blocks.map((block, index) => {
    const last = index === blocks.length - 1;
    switch (block.type) {
      case 'paragraph':
        return (
          <p key={index} className="md-paragraph">
            {renderInline(block.children)}
            {last && trailing}
          </p>
        );
      case 'quote':
        return <blockquote key={index} className="md-quote">{renderBlocks(block.children)}</blockquote>;
      case 'codeBlock':
        return (
          <pre key={index} className="md-code-block">
            <code>{block.text}</code>
          </pre>
        );
    }
  });
}

/**
 * Message content as formatted text; `trailing` (such as an "edited" note) flows at the end of
 * the last line. Memoised: a chat re-renders rows far more often than content changes.
 */
export const Markdown = memo(function Markdown({ content, trailing }: { content: string; trailing?: ReactNode }) {
  const blocks = parseMarkdown(content);
  const endsInParagraph = blocks[blocks.length - 1]?.type === 'paragraph';
  return (
    <div className="md">
      {renderBlocks(blocks, endsInParagraph ? trailing : undefined)}
      {!endsInParagraph && trailing}
    </div>
  );
});
