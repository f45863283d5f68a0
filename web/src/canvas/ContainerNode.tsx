/**
 * A container node (`loop`) on the canvas: a React Flow group whose body steps are drawn inside it
 * (they are nodes of their own with its id as `parentId`). Its header has its id, its kind, its
 * summary and a + that adds a step to the body; it has the handles of any node (its edges in and
 * out are the flow's), can be resized when selected, and grows when a body step is dragged to its
 * edge. Components dropped onto it go into the body.
 */
import { type NodeProps, NodeResizer, useStore } from '@xyflow/react';
import { createContext, memo, useContext } from 'react';
import { kindClasses, summaryOf, useNodeCatalog } from './catalog.ts';
import { type CanvasNode, CONTAINER_FRAME } from './document.ts';
import { NodeHandles, NodeProblems, useErrorHandle } from './StepNode.tsx';

/** What a container's own controls ask of the editor. */
export type ContainerActions = { addToBody: (containerId: string) => void };
const ContainerActionsContext = createContext<ContainerActions>({ addToBody: () => {} });
export const ContainerActionsProvider = ContainerActionsContext.Provider;

export const ADD_TO_BODY_LABEL = 'Add a step to the body';

export const ContainerNode = memo(function ContainerNode({ id, data, selected }: NodeProps<CanvasNode>) {
  const entry = useNodeCatalog().byType.get(data.type);
  const { addToBody } = useContext(ContainerActionsContext);
  const summary = summaryOf(entry, data.config);
  const errorHandle = useErrorHandle(id, data);
  const empty = useStore((s) => !s.nodes.some((n) => n.parentId === id));
  const hasProblems = data.problems.length > 0;
  return (
    <div
      className={`container-node ${kindClasses('step', entry)}${selected ? ' container-selected' : ''}${hasProblems ? ' container-invalid' : ''}`}
      data-testid={`node-${id}`}
    >
      <NodeResizer
        isVisible={selected}
        minWidth={CONTAINER_FRAME.minWidth}
        minHeight={CONTAINER_FRAME.minHeight}
      />
      <div className="container-head">
        <div className="step-head">
          <span className="step-id">{id}</span>
          <span className="step-kind">{entry?.label ?? data.type}</span>
        </div>
        <div className="step-summary container-summary" title={summary}>
          {summary || '\u00a0'}
        </div>
        <button
          type="button"
          className="container-add nodrag"
          aria-label={ADD_TO_BODY_LABEL}
          title={ADD_TO_BODY_LABEL}
          onClick={() => addToBody(id)}
        >
          +
        </button>
      </div>
      {empty && (
        <div className="container-empty">Drop components here, or press + to add a step run per item.</div>
      )}
      <NodeProblems problems={data.problems} className="step-problems container-problems" />
      <NodeHandles type={data.type} errorHandle={errorHandle} />
    </div>
  );
});
